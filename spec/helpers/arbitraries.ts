/** fast-check arbitraries for frame records, one per frame type, valid as RFC 9113 §6 requires. */
import fc from 'fast-check';
import { FrameType, MAX_INT31, SettingId } from '../../lib/constants.js';
import type { Frame, PriorityFields, Setting } from '../../lib/frame/types.js';

export const streamId = fc.integer({ min: 1, max: MAX_INT31 });
const u31 = fc.integer({ min: 0, max: MAX_INT31 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max = 200) => fc.uint8Array({ maxLength: max });
const pad = fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined });
const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });

export const priorityFields: fc.Arbitrary<PriorityFields> = fc.record({
  dependsOn: u31, weight: fc.integer({ min: 1, max: 256 }), exclusive: fc.boolean(),
});

const validSetting: fc.Arbitrary<Setting> = fc.oneof(
  fc.tuple(fc.constant(SettingId.HEADER_TABLE_SIZE), u32),
  fc.tuple(fc.constant(SettingId.ENABLE_PUSH), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant(SettingId.MAX_CONCURRENT_STREAMS), u32),
  fc.tuple(fc.constant(SettingId.INITIAL_WINDOW_SIZE), u31),
  fc.tuple(fc.constant(SettingId.MAX_FRAME_SIZE), fc.integer({ min: 16384, max: 16777215 })),
  fc.tuple(fc.constant(SettingId.MAX_HEADER_LIST_SIZE), u32),
  fc.tuple(fc.constant(SettingId.ENABLE_CONNECT_PROTOCOL), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant(SettingId.NO_RFC7540_PRIORITIES), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.integer({ min: 0x0a, max: 0xffff }), u32),
);

export const dataFrame = fc.record({ streamId, data: bytes(400), endStream: fc.boolean(), padLength: pad })
  .map((f): Frame => ({ type: FrameType.DATA, ...f, flowControlledLength: f.data.length + (f.padLength === undefined ? 0 : f.padLength + 1) }));
export const headersFrame = fc.record({
  streamId, headerBlock: bytes(400), endStream: fc.boolean(), padLength: pad,
  priority: fc.option(priorityFields, { nil: undefined }),
}).map((f): Frame => ({ type: FrameType.HEADERS, ...f, endHeaders: true }));
export const priorityFrame = fc.tuple(streamId, priorityFields)
  .filter(([id, p]) => id !== p.dependsOn)
  .map(([id, priority]): Frame => ({ type: FrameType.PRIORITY, streamId: id, priority }));
export const rstStreamFrame = fc.record({ streamId, errorCode: u32 }).map((f): Frame => ({ type: FrameType.RST_STREAM, ...f }));
export const settingsFrame = fc.oneof(
  fc.array(validSetting, { maxLength: 12 }).map((settings): Frame => ({ type: FrameType.SETTINGS, streamId: 0, ack: false, settings })),
  fc.constant<Frame>({ type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] }),
);
export const pushPromiseFrame = fc.record({ streamId, promisedStreamId: u31, headerBlock: bytes(400), padLength: pad })
  .map((f): Frame => ({ type: FrameType.PUSH_PROMISE, ...f, endHeaders: true }));
export const pingFrame = fc.record({ ack: fc.boolean(), opaqueData: fc.uint8Array({ minLength: 8, maxLength: 8 }) })
  .map((f): Frame => ({ type: FrameType.PING, streamId: 0, ...f }));
export const goawayFrame = fc.record({ lastStreamId: u31, errorCode: u32, debugData: bytes(100) })
  .map((f): Frame => ({ type: FrameType.GOAWAY, streamId: 0, ...f }));
export const windowUpdateFrame = fc.record({ streamId: u31, increment: fc.integer({ min: 1, max: MAX_INT31 }) })
  .map((f): Frame => ({ type: FrameType.WINDOW_UPDATE, ...f }));
export const continuationFrame = fc.record({ streamId, headerBlock: bytes(200), endHeaders: fc.boolean() })
  .map((f): Frame => ({ type: FrameType.CONTINUATION, ...f }));
export const altsvcFrame = fc.oneof(
  fc.record({ origin: ascii.filter((s) => s.length > 0), fieldValue: ascii }).map((f): Frame => ({ type: FrameType.ALTSVC, streamId: 0, ...f })),
  fc.record({ streamId, fieldValue: ascii }).map((f): Frame => ({ type: FrameType.ALTSVC, origin: '', ...f })),
);
export const priorityUpdateFrame = fc.record({ prioritizedStreamId: streamId, fieldValue: ascii })
  .map((f): Frame => ({ type: FrameType.PRIORITY_UPDATE, streamId: 0, ...f }));
export const unknownFrame = fc.record({
  type: fc.integer({ min: 0x0b, max: 0xff }).filter((t) => t !== FrameType.PRIORITY_UPDATE),
  streamId: u31, flags: fc.integer({ min: 0, max: 255 }), payload: bytes(200),
}).map((f): Frame => f);

/** Every frame type that the streaming decoder returns as it is (no CONTINUATION). */
export const streamFrame: fc.Arbitrary<Frame> = fc.oneof(
  dataFrame, headersFrame, priorityFrame, rstStreamFrame, settingsFrame, pushPromiseFrame, pingFrame,
  goawayFrame, windowUpdateFrame, altsvcFrame, priorityUpdateFrame, unknownFrame,
);

export const ARBITRARIES: Record<string, fc.Arbitrary<Frame>> = {
  DATA: dataFrame, HEADERS: headersFrame, PRIORITY: priorityFrame, RST_STREAM: rstStreamFrame,
  SETTINGS: settingsFrame, PUSH_PROMISE: pushPromiseFrame, PING: pingFrame, GOAWAY: goawayFrame,
  WINDOW_UPDATE: windowUpdateFrame, CONTINUATION: continuationFrame, ALTSVC: altsvcFrame,
  PRIORITY_UPDATE: priorityUpdateFrame, UNKNOWN: unknownFrame,
};
