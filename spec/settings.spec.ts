// SETTINGS state (RFC 9113 §6.5): our values pending until ACK, one ACK per frame in order;
// the peer's values on receipt, with the role-dependent and RFC 9218 rules.
import fc from 'fast-check';
import { ErrorCode, SettingId } from '../lib/constants.js';
import { ConnectionError, UsageError } from '../lib/errors.js';
import { LocalSettings, RemoteSettings } from '../lib/settings.js';

describe('local settings', () => {
  it('start at the RFC initial values, with unlimited ones unset', () => {
    const s = new LocalSettings(true);
    expect([s.headerTableSize, s.enablePush, s.initialWindowSize, s.maxFrameSize]).toEqual([4096, true, 65535, 16384]);
    expect(s.maxConcurrentStreams).toBe(Infinity);
    expect(s.maxHeaderListSize).toBe(Infinity);
  });

  it('take effect only when acknowledged, one ACK applying one SETTINGS frame, in order', () => {
    const s = new LocalSettings(false);
    s.send([[SettingId.INITIAL_WINDOW_SIZE, 1000]]);
    s.send([[SettingId.INITIAL_WINDOW_SIZE, 2000], [SettingId.MAX_FRAME_SIZE, 32768]]);
    expect(s.initialWindowSize).toBe(65535);
    expect(s.upperBound(SettingId.MAX_FRAME_SIZE)).toBe(32768);
    const first = s.acknowledge();
    expect(first.get(SettingId.INITIAL_WINDOW_SIZE)).toEqual({ setting: 4, originalValue: 65535, newValue: 1000 });
    expect([s.initialWindowSize, s.maxFrameSize]).toEqual([1000, 16384]);
    s.acknowledge();
    expect([s.initialWindowSize, s.maxFrameSize]).toEqual([2000, 32768]);
    expect(s.unacknowledged).toBe(0);
  });

  it('treat an ACK with nothing pending as a connection PROTOCOL_ERROR', () => {
    expect(() => new LocalSettings(false).acknowledge()).toThrow(expect.objectContaining({ errorCode: ErrorCode.PROTOCOL_ERROR }));
  });

  it.each([
    ['ENABLE_PUSH 2', SettingId.ENABLE_PUSH, 2],
    ['INITIAL_WINDOW_SIZE 2^31', SettingId.INITIAL_WINDOW_SIZE, 2 ** 31],
    ['MAX_FRAME_SIZE 100', SettingId.MAX_FRAME_SIZE, 100],
    ['a negative value', SettingId.MAX_CONCURRENT_STREAMS, -1],
    ['a fractional value', SettingId.MAX_CONCURRENT_STREAMS, 1.5],
  ])('refuse to send %s (a usage error, nothing recorded)', (_n, id, value) => {
    const s = new LocalSettings(false);
    expect(() => s.send([[id, value]])).toThrow(UsageError);
    expect(s.unacknowledged).toBe(0);
  });

  it('refuse to let a server enable push (RFC 9113 §6.5.2)', () => {
    expect(() => new LocalSettings(true).send([[SettingId.ENABLE_PUSH, 1]])).toThrow(UsageError);
    expect(() => new LocalSettings(false).send([[SettingId.ENABLE_PUSH, 1]])).not.toThrow();
  });

  it('apply pending frames exactly as a model would, whatever the interleaving (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('ack' as const), fc.array(fc.tuple(fc.constantFrom(1, 3, 4, 6, 0x20), fc.nat(60000)), { maxLength: 4 }))), (ops) => {
        const s = new LocalSettings(false);
        const model = new Map<number, number>(s.entries());
        const queue: Array<Array<[number, number]>> = [];
        for (const op of ops) {
          if (op === 'ack') {
            const f = queue.shift();
            if (f === undefined) {
              expect(() => s.acknowledge()).toThrow(ConnectionError);
              continue;
            }
            s.acknowledge();
            for (const [id, v] of f) model.set(id, v);
          } else {
            s.send(op);
            queue.push(op);
          }
          for (const [id, v] of model) expect(s.get(id)).toBe(v);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('remote settings', () => {
  it('apply on receipt and report old and new values (a later duplicate wins)', () => {
    const s = new RemoteSettings(true);
    const changed = s.receive([[SettingId.MAX_CONCURRENT_STREAMS, 10], [SettingId.MAX_CONCURRENT_STREAMS, 20], [0x77, 5]]);
    expect(changed.get(SettingId.MAX_CONCURRENT_STREAMS)).toEqual({ setting: 3, originalValue: undefined, newValue: 20 });
    expect(s.maxConcurrentStreams).toBe(20);
    expect(s.get(0x77)).toBe(5); // unknown ids pass through
  });

  it('treat SETTINGS_ENABLE_PUSH = 1 from a server as PROTOCOL_ERROR, and accept it from a client', () => {
    expect(() => new RemoteSettings(true).receive([[SettingId.ENABLE_PUSH, 1]])).toThrow(expect.objectContaining({ errorCode: ErrorCode.PROTOCOL_ERROR }));
    expect(new RemoteSettings(false).receive([[SettingId.ENABLE_PUSH, 1]]).size).toBe(1);
  });

  it('treat a change of SETTINGS_NO_RFC7540_PRIORITIES after the first value as PROTOCOL_ERROR (RFC 9218 §2.1)', () => {
    const s = new RemoteSettings(false);
    s.receive([[SettingId.NO_RFC7540_PRIORITIES, 1]]);
    expect(s.noRfc7540Priorities).toBe(true);
    s.receive([[SettingId.NO_RFC7540_PRIORITIES, 1]]);
    expect(() => s.receive([[SettingId.NO_RFC7540_PRIORITIES, 0]])).toThrow(ConnectionError);
  });

  it('refuse a SETTINGS frame with more than 64 parameters as ENHANCE_YOUR_CALM', () => {
    const many: Array<[number, number]> = Array.from({ length: 65 }, () => [SettingId.MAX_CONCURRENT_STREAMS, 1]);
    expect(() => new RemoteSettings(false).receive(many)).toThrow(expect.objectContaining({ errorCode: ErrorCode.ENHANCE_YOUR_CALM }));
  });
});
