#!/usr/bin/env node
/*
 * gcs-emulator.js: the Cloud Storage emulator of firebase-tools, on
 * 127.0.0.1, for the test suite. It loads the package that
 * t/peers/gcs-emulator installs into $LS_TEST_CACHE/firebase-tools-VERSION,
 * builds a StorageEmulator, registers it (the emulator asks the registry for
 * its own address when it writes selfLink and mediaLink) and serves the
 * Express app of createApp() itself: the firebase CLI, which would do the
 * same, first wants Java for the rules runtime.
 *
 * usage: node gcs-emulator.js --version
 *        node gcs-emulator.js --dir DIR [--port PORT] [--port-file FILE]
 *                             [--project ID]
 *
 * --version         print the version of the firebase-tools it loads.
 * --dir DIR         keep the object bytes in DIR (made if missing). The
 *                   emulator's own choice would be $TMPDIR/firebase/storage/
 *                   blobs, shared by every emulator on the machine. Object
 *                   metadata lives in memory only: a restart forgets every
 *                   object.
 * --port PORT       listen on 127.0.0.1:PORT; 0 (the default) picks a free
 *                   one.
 * --port-file FILE  once listening, write the port and a newline to FILE
 *                   (written to FILE.tmp, then renamed).
 * --project ID      the project id (default demo-ls-test). It must start
 *                   with "demo-": for another id, listing the buckets
 *                   before any exists asks Firebase's API on the network.
 *
 * The emulator checks no credentials: every request is served as the
 * project's owner. SIGTERM or SIGINT ends it at once.
 *
 * Exit status: 0 on SIGTERM or SIGINT; 100 usage, or the package cannot be
 * loaded; 111 it cannot listen.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const PROG = "gcs-emulator";
const VERSION = "15.34.2";
const USAGE = `usage: node gcs-emulator.js --version
       node gcs-emulator.js --dir DIR [--port PORT] [--port-file FILE]
                            [--project ID]`;

function fatal(code, msg) {
  process.stderr.write(`${PROG}: fatal: ${msg}\n`);
  process.exit(code);
}

function usage() {
  process.stderr.write(USAGE + "\n");
  process.exit(100);
}

function load(name) {
  const cache = process.env.LS_TEST_CACHE;
  if (!cache) fatal(100, "LS_TEST_CACHE is not set");
  const root = path.join(cache, `firebase-tools-${VERSION}`, "node_modules",
    "firebase-tools");
  try {
    return require(path.join(root, name));
  } catch (e) {
    fatal(100, `unable to load firebase-tools ${VERSION} from ${root}: ` +
      e.message.split("\n")[0]);
  }
}

function parse(argv) {
  const opt = { port: 0, project: "demo-ls-test" };
  if (argv.length === 1 && argv[0] === "--version") {
    opt.version = true;
    return opt;
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!["--dir", "--port", "--port-file", "--project"].includes(a) ||
        i + 1 >= argv.length || argv[i + 1] === "") {
      usage();
    }
    const v = argv[++i];
    if (a === "--dir") opt.dir = v;
    else if (a === "--port-file") opt.portFile = v;
    else if (a === "--project") opt.project = v;
    else {
      if (!/^[0-9]{1,5}$/.test(v) || +v > 65535) usage();
      opt.port = +v;
    }
  }
  if (!opt.dir || !/^demo-[a-z0-9-]+$/.test(opt.project)) usage();
  return opt;
}

async function main() {
  const opt = parse(process.argv.slice(2));
  if (opt.version) {
    process.stdout.write(load("package.json").version + "\n");
    return;
  }
  const dir = path.resolve(opt.dir);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    fatal(111, `unable to create ${dir}: ${e.message}`);
  }
  const { StorageEmulator } = load("lib/emulator/storage");
  const { EmulatorRegistry } = load("lib/emulator/registry");
  const { createApp } = load("lib/emulator/storage/server");

  // The constructor asks getPersistenceTmpDir() where the bytes go.
  class Emulator extends StorageEmulator {
    getPersistenceTmpDir() {
      return dir;
    }
  }
  const emu = new Emulator({
    projectId: opt.project,
    host: "127.0.0.1",
    port: opt.port,
  });
  EmulatorRegistry.set("storage", emu);
  const app = await createApp(opt.project, emu);

  // A request the emulator does not expect can end in a rejected promise
  // (a media upload without ?name=, for one); that must not stop it.
  process.on("unhandledRejection", (e) => {
    process.stderr.write(`${PROG}: warning: unhandled rejection: ` +
      `${String(e && e.stack || e).split("\n")[0]}\n`);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => process.exit(0));
  }

  const server = app.listen(opt.port, "127.0.0.1");
  server.on("error", (e) => {
    fatal(111, `unable to listen on 127.0.0.1:${opt.port}: ${e.message}`);
  });
  server.on("listening", () => {
    const port = server.address().port;
    emu.args.port = port;
    if (opt.portFile) {
      const tmp = opt.portFile + ".tmp";
      fs.writeFileSync(tmp, `${port}\n`);
      fs.renameSync(tmp, opt.portFile);
    }
  });
}

main().catch((e) => fatal(111, String(e && e.stack || e)));
