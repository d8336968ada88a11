// Copies the pinned noVNC library (ES modules, no build step of its own) into the relay node's static files, so the
// console works offline and is served by the node itself: no CDN, and the version is the one package-lock.json pins.
// Run by `npm run build`, and by the Relay project's build (target BundleNoVnc) when package-lock.json changed.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'node_modules', '@novnc', 'novnc');
const target = join(here, '..', 'src', 'OrleansVncCluster.Relay', 'wwwroot', 'novnc');

let version;
try {
  version = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')).version;
} catch {
  console.error(`bundle: ${source} is missing: run "npm ci" in ${here} first`);
  process.exit(1);
}

// Start from an empty folder so a file dropped by a newer noVNC does not linger after a downgrade.
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const part of ['core', 'vendor']) {
  cpSync(join(source, part), join(target, part), { recursive: true });
}
for (const file of ['LICENSE.txt', 'AUTHORS']) {
  cpSync(join(source, file), join(target, file));
}
writeFileSync(join(target, 'VERSION'), `${version}\n`);
console.log(`bundle: noVNC ${version} -> ${target}`);
