// The compiled service contract, kept importable from here: the code lives in openapi/ (one file per job, see index.ts).
export * from './openapi/index.ts';
