// Where the tests find the real servers: the same variables as the hub, with the machine's defaults.
export const testDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
