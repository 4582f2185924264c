/**
 * SETTINGS state of both sides (RFC 9113 §6.5). Our values are pending until the peer
 * acknowledges the SETTINGS frame that carried them — one ACK applies one frame, in the order
 * they were sent — while the peer's values apply on receipt. Every value is validated; unknown
 * identifiers pass through.
 */
import {
  DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE, ErrorCode, MIN_MAX_FRAME_SIZE, SettingId,
} from './constants.js';
import { ConnectionError, UsageError } from './errors.js';
import type { ChangedSetting } from './events.js';
import type { Setting } from './frame/types.js';
import { validateSetting } from './frame/settings.js';

/** The RFC 9113 §6.5.2 initial value of each setting; absent ones are unlimited. */
export const INITIAL_SETTINGS: ReadonlyMap<number, number> = new Map([
  [SettingId.HEADER_TABLE_SIZE, DEFAULT_HEADER_TABLE_SIZE],
  [SettingId.ENABLE_PUSH, 1],
  [SettingId.INITIAL_WINDOW_SIZE, DEFAULT_INITIAL_WINDOW_SIZE],
  [SettingId.MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE],
  [SettingId.ENABLE_CONNECT_PROTOCOL, 0],
  [SettingId.NO_RFC7540_PRIORITIES, 0],
]);

/** Most parameters accepted in one SETTINGS frame (a legitimate peer sends fewer than 10). */
export const MAX_SETTINGS_ENTRIES = 64;

/** One side's settings in effect. */
export class Settings {
  protected readonly values: Map<number, number>;

  constructor() {
    this.values = new Map(INITIAL_SETTINGS);
  }

  /** The value in effect, or `undefined` for an unlimited setting that was never sent. */
  get(id: number): number | undefined {
    return this.values.get(id);
  }

  get headerTableSize(): number {
    return this.values.get(SettingId.HEADER_TABLE_SIZE)!;
  }
  get enablePush(): boolean {
    return this.values.get(SettingId.ENABLE_PUSH) === 1;
  }
  /** Infinity until the setting is sent (RFC 9113: initially unlimited). */
  get maxConcurrentStreams(): number {
    return this.values.get(SettingId.MAX_CONCURRENT_STREAMS) ?? Number.POSITIVE_INFINITY;
  }
  get initialWindowSize(): number {
    return this.values.get(SettingId.INITIAL_WINDOW_SIZE)!;
  }
  get maxFrameSize(): number {
    return this.values.get(SettingId.MAX_FRAME_SIZE)!;
  }
  /** Infinity until the setting is sent. */
  get maxHeaderListSize(): number {
    return this.values.get(SettingId.MAX_HEADER_LIST_SIZE) ?? Number.POSITIVE_INFINITY;
  }
  get enableConnectProtocol(): boolean {
    return this.values.get(SettingId.ENABLE_CONNECT_PROTOCOL) === 1;
  }
  get noRfc7540Priorities(): boolean {
    return this.values.get(SettingId.NO_RFC7540_PRIORITIES) === 1;
  }

  /** Every setting in effect, by identifier. */
  entries(): Array<[number, number]> {
    return [...this.values.entries()];
  }

  /** Applies settings in order (a later duplicate wins) and reports what changed. */
  protected apply(settings: readonly Setting[]): Map<number, ChangedSetting> {
    const changed = new Map<number, ChangedSetting>();
    for (const [id, value] of settings) {
      const prior = changed.get(id);
      const before = prior !== undefined ? prior.originalValue : this.values.get(id);
      this.values.set(id, value);
      changed.set(id, { setting: id, originalValue: before, newValue: value });
    }
    return changed;
  }
}

/** Our settings: values sent wait for the peer's ACK. */
export class LocalSettings extends Settings {
  private readonly pending: Setting[][];
  private readonly server: boolean;
  /** SETTINGS frames sent (ACK frames aside). */
  private framesSent: number;
  /** SETTINGS_NO_RFC7540_PRIORITIES as the first frame set it (undefined: not sent). */
  private noRfc7540: number | undefined;
  /** We sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 at some point. */
  private connectProtocolOn: boolean;

  constructor(server: boolean) {
    super();
    this.pending = [];
    this.server = server;
    this.framesSent = 0;
    this.noRfc7540 = undefined;
    this.connectProtocolOn = false;
  }

  /** SETTINGS frames sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.pending.length;
  }

  /**
   * Validates settings we are about to send and records them as pending.
   * @throws UsageError for a value RFC 9113 §6.5.2 forbids (nothing is recorded).
   */
  send(settings: readonly Setting[]): readonly Setting[] {
    for (const [id, value] of settings) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new UsageError(`setting id ${id} is not a 16-bit integer`);
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new UsageError(`setting ${id} value ${value} is not a 32-bit integer`);
      try {
        validateSetting(id, value);
      } catch (e) {
        throw new UsageError(`invalid local setting: ${(e as Error).message}`);
      }
      // > A server MUST NOT send a SETTINGS_ENABLE_PUSH setting with a value of 1.   RFC 9113 §6.5.2 (ENABLE_PUSH)
      if (this.server && id === SettingId.ENABLE_PUSH && value === 1) throw new UsageError('a server cannot enable push');
      // > If endpoints use SETTINGS_NO_RFC7540_PRIORITIES, they MUST send it in the first
      // > SETTINGS frame. Senders MUST NOT change the SETTINGS_NO_RFC7540_PRIORITIES value after
      // > the first SETTINGS frame.   RFC 9218 §2.1
      if (id === SettingId.NO_RFC7540_PRIORITIES && this.framesSent > 0 && value !== this.noRfc7540) {
        throw new UsageError(this.noRfc7540 === undefined
          ? 'SETTINGS_NO_RFC7540_PRIORITIES goes in the first SETTINGS frame (RFC 9218 §2.1): pass it as localSettings.noRfc7540Priorities'
          : `SETTINGS_NO_RFC7540_PRIORITIES cannot change after the first SETTINGS frame (it is ${this.noRfc7540}; RFC 9218 §2.1)`);
      }
      // > A sender MUST NOT send a SETTINGS_ENABLE_CONNECT_PROTOCOL parameter with the value of 0
      // > after previously sending a value of 1.   RFC 8441 §3
      if (id === SettingId.ENABLE_CONNECT_PROTOCOL && value === 0 && this.connectProtocolOn) {
        throw new UsageError('SETTINGS_ENABLE_CONNECT_PROTOCOL cannot go back to 0 once 1 was sent (RFC 8441 §3)');
      }
    }
    for (const [id, value] of settings) {
      if (id === SettingId.NO_RFC7540_PRIORITIES) this.noRfc7540 = value;
      if (id === SettingId.ENABLE_CONNECT_PROTOCOL && value === 1) this.connectProtocolOn = true;
    }
    this.framesSent++;
    this.pending.push(settings.slice());
    return settings;
  }

  /**
   * The value the peer may already be using for `id`: the largest of the value in effect and
   * every pending one (to accept what the peer sends before it acknowledges a raise).
   */
  upperBound(id: number): number | undefined {
    let v = this.get(id);
    for (const frame of this.pending) {
      for (const [sid, value] of frame) if (sid === id && (v === undefined || value > v)) v = value;
    }
    return v;
  }

  /**
   * The peer acknowledged our oldest unacknowledged SETTINGS frame: its values take effect.
   * @throws ConnectionError PROTOCOL_ERROR for an ACK with nothing pending.
   */
  acknowledge(): Map<number, ChangedSetting> {
    const frame = this.pending.shift();
    // An ACK for nothing is a peer bug; no RFC code is named, PROTOCOL_ERROR is the general one.
    if (frame === undefined) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS ACK without a pending SETTINGS frame');
    return this.apply(frame);
  }
}

/** The peer's settings: applied on receipt. */
export class RemoteSettings extends Settings {
  private readonly client: boolean;
  /** SETTINGS_NO_RFC7540_PRIORITIES as the peer set it: by its first frame, or 0 after it. */
  private noRfc7540: number | undefined;
  private framesReceived: number;

  /** @param client true when we are the client (so the peer is a server). */
  constructor(client: boolean) {
    super();
    this.client = client;
    this.noRfc7540 = undefined;
    this.framesReceived = 0;
  }

  /**
   * Applies a received SETTINGS frame (values already checked by the frame codec).
   * @throws ConnectionError for role-dependent violations and floods.
   */
  receive(settings: readonly Setting[]): Map<number, ChangedSetting> {
    if (settings.length > MAX_SETTINGS_ENTRIES) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `SETTINGS with ${settings.length} parameters`);
    }
    for (const [id, value] of settings) {
      // > A client MUST treat the receipt of a SETTINGS_ENABLE_PUSH setting with a value of 1 as
      // > a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.5.2
      if (this.client && id === SettingId.ENABLE_PUSH && value === 1) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'server sent SETTINGS_ENABLE_PUSH = 1');
      }
      if (id === SettingId.NO_RFC7540_PRIORITIES) {
        // > Senders MUST NOT change the SETTINGS_NO_RFC7540_PRIORITIES value after the first
        // > SETTINGS frame. Receivers that detect a change MAY treat it as a connection error of
        // > type PROTOCOL_ERROR.   RFC 9218 §2.1
        // (a first frame without it leaves the initial value, 0, which a later one cannot change)
        const before = this.noRfc7540 ?? (this.framesReceived > 0 ? 0 : undefined);
        if (before !== undefined && before !== value) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_NO_RFC7540_PRIORITIES changed');
        }
        this.noRfc7540 = value;
      }
    }
    this.framesReceived++;
    return this.apply(settings);
  }
}
