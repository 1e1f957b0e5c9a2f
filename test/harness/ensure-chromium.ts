/**
 * Part of `npm test` (and `.ci/run`): makes sure the browser tests have their Chromium. When it
 * is missing and this is root on Debian, installs the `chromium` package; otherwise stops with
 * the command to run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumPath, INSTALL_CHROMIUM } from './browser';

function main(): void {
  const path = chromiumPath();
  if (existsSync(path)) return;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !process.env.CHROMIUM_PATH;
  if (!canInstall) {
    console.error(
      `Chromium is missing (${path}); the browser tests need it. Install it with:\n  sudo sh -c '${INSTALL_CHROMIUM}'\n(or set CHROMIUM_PATH to a Chromium binary)`,
    );
    process.exit(1);
  }
  console.log("Chromium is missing: installing Debian's chromium package for the browser tests");
  execFileSync('sh', ['-c', INSTALL_CHROMIUM], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!existsSync(path)) {
    console.error(`apt-get installed chromium, but ${path} is still missing; set CHROMIUM_PATH to its binary`);
    process.exit(1);
  }
}

main();
