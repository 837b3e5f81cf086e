// The message log's public API: append (group commit), verify, purge, and the chain encoding they share.
export { MessageLog, MessageLogClosedError, type LogEntry, type MessageLogOptions } from './message-log.ts';
export { verifyLog, type CheckpointKeys, type LogProblem, type LogProblemKind, type LogVerification } from './verify.ts';
export { purgeLog, LogPurgeError, type PurgeResult } from './purge.ts';
export { CHECKPOINT_TYP, GENESIS_HASH, encodeRow, rowHash, type ChainRow, type ChainSubject } from './chain.ts';
export { logLag, type LogLag } from './lag.ts';
