// `tabadol keys generate`: a subsystem's key pair, the private JWK kept by the member, the public JWK set it registers.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMemberKeyPair, kidPattern, type MemberKeyAlgorithm } from '../../admin/keys.ts';
import { action, CliRefusalError, printLines } from '../run.ts';

function parseKid(value: string): string {
  if (!kidPattern.test(value)) throw new InvalidArgumentError('a kid must match [A-Za-z0-9._-]{1,128}');
  return value;
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("members' signing keys");
  keys
    .command('generate')
    .description('generate a key pair: DIR/private.jwk (keep it, mode 0600) and DIR/public.jwks (register it)')
    .requiredOption('--out <dir>', 'the directory to write the two files into (created if needed)')
    .addOption(new Option('--alg <alg>', 'the signature algorithm').choices(['ES256', 'EdDSA']).default('ES256'))
    .option('--kid <kid>', 'the key id (default: derived from the key thumbprint)', parseKid)
    .action(
      action(async (opts: { out: string; alg: MemberKeyAlgorithm; kid?: string }) => {
        const privatePath = join(opts.out, 'private.jwk');
        const publicPath = join(opts.out, 'public.jwks');
        if (existsSync(privatePath)) throw new CliRefusalError([`${privatePath} already exists: refusing to overwrite a private key (choose another --out)`]);
        const pair = await generateMemberKeyPair(opts.alg, opts.kid);
        mkdirSync(opts.out, { recursive: true, mode: 0o700 });
        try {
          // 'wx' fails if another process created it meanwhile; mode 0600 from the first byte.
          writeFileSync(privatePath, `${JSON.stringify(pair.privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliRefusalError([`${privatePath} already exists: refusing to overwrite a private key`]);
          throw err;
        }
        writeFileSync(publicPath, `${JSON.stringify(pair.publicJwks, null, 2)}\n`);
        printLines([
          `generated ${pair.alg} key ${pair.kid}`,
          `  private key  ${privatePath}  (mode 0600: keep it secret, never send it to the hub)`,
          `  public keys  ${publicPath}`,
          `register it with: tabadol member add ID --name NAME --jwks ${publicPath}   (or tabadol member keys add ID --jwks ${publicPath})`,
        ]);
      }),
    );
}
