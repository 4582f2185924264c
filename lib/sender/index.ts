/** The sender: where the engine and a scheduler meet. */
export { Sender, type SenderOptions } from './sender.js';
export { BufferSource, type PullSource, type PullSourceListener } from './source.js';
