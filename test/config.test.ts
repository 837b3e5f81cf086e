import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, HUB_ID: 'MA/GOV/HUB/core', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('reads and coerces the environment', () => {
    const config = loadConfig({ PORT: '9090', DATABASE_URL: 'postgres://u@db:5432/hub', REDIS_URL: 'redis://cache:6379/2', LOG_LEVEL: 'debug' });
    expect(config.PORT).toBe(9090);
    expect(config.DATABASE_URL).toBe('postgres://u@db:5432/hub');
    expect(config.REDIS_URL).toBe('redis://cache:6379/2');
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: .*"eighty"/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ HUB_ID: 'MA/GOV/HUB' }, /^HUB_ID: must be INSTANCE\/CLASS\/CODE\/SUBSYSTEM/],
    [{ HUB_ID: 'MA/GOV/HUB/co re' }, /^HUB_ID: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a connection URL, which may hold a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:s3cret@db/x' })).toThrow(/^DATABASE_URL: must be a postgres/);
    try {
      loadConfig({ DATABASE_URL: 'mysql://admin:s3cret@db/x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('reads a --config file, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-config-'));
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, 'PORT: 7000\nDATA_DIR: /var/lib/tabadol\nLOG_LEVEL: warn\n');
    const config = loadConfig({ LOG_LEVEL: 'error' }, file);
    expect(config).toMatchObject({ PORT: 7000, DATA_DIR: '/var/lib/tabadol', LOG_LEVEL: 'error' });
  });

  it('refuses an unknown setting in the file and a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-config-'));
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, 'PROT: 7000\n');
    expect(() => loadConfig({}, file)).toThrow(/unknown setting PROT/);
    expect(() => loadConfig({}, join(dir, 'missing.yaml'))).toThrow(/cannot be read \(ENOENT\)/);
  });
});
