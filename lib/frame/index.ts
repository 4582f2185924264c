/** The frame codec: pure functions and an incremental decoder, no connection state. */
export * from './types.js';
export { FrameDecoder, decodeFrame, type FrameDecoderOptions } from './decoder.js';
export { encodeFrame, encodeFrames, encodeHeaders, encodePushPromise, type HeadersInit, type PushPromiseInit } from './encoder.js';
export { FrameSink } from './sink.js';
export { readFrameHeader, typeName } from './header.js';
export { validateSetting } from './settings.js';
