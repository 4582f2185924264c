/** Errors of the priority tree: all are caller errors, thrown before anything changes. */
import { H2SchedError } from '../errors.js';

/** Root of the priority tree's errors. */
export class PriorityError extends H2SchedError {}
/** A weight that is not an integer in 1..256 (RFC 7540 §5.3.2). */
export class BadWeightError extends PriorityError {}
/** A stream made to depend on itself (RFC 7540 §5.3.1). */
export class SelfDependencyError extends PriorityError {}
/** A stream inserted twice. */
export class DuplicateStreamError extends PriorityError {}
/** An operation on a stream the tree does not hold. */
export class UnknownStreamError extends PriorityError {}
/** An operation on stream 0, the root, which cannot be changed. */
export class PseudoStreamError extends PriorityError {}
/** A stream identifier that is not an integer in 0..2^31-1. */
export class InvalidStreamIdError extends PriorityError {}
/** More open streams than the tree's `maxStreams`. */
export class TooManyStreamsError extends PriorityError {}
