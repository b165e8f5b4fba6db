// Spawns one of the Python test helpers (tests/e2e/support/*.py) with
// Debian's /usr/bin/python3 (the pyenv python3 on PATH cannot import the
// Debian dbus/gi modules) and reads its stdout line by line.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const SUPPORT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'support');
export const PYTHON = process.env.E2E_PYTHON || '/usr/bin/python3';

export class HelperProcess {
  /**
   * @param {string} script  file name under tests/e2e/support
   * @param {string[]} args
   * @param {{ stderrFile?: string, name?: string }} options
   */
  constructor(script, args = [], { stderrFile, name } = {}) {
    this.name = name ?? script;
    this.lines = [];
    this.waiters = [];
    this.child = spawn(PYTHON, [join(SUPPORT_DIR, script), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: process.env,
    });
    this.exit = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
    this.child.once('error', (error) => {
      this.spawnError = error;
      this.#wake();
    });
    this.child.once('exit', () => this.#wake());
    let buffer = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
      this.#wake();
    });
    this.stderr = [];
    const sink = stderrFile ? createWriteStream(stderrFile, { flags: 'a' }) : null;
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      sink?.write(chunk);
      this.stderr.push(chunk);
      if (this.stderr.length > 200) this.stderr.shift();
    });
  }

  #wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null && !this.spawnError;
  }

  /** Resolves with the next stdout line (in order), or throws after `timeoutMs`. */
  async nextLine(timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (!this.alive) {
        throw new Error(
          `${this.name} ${this.spawnError ? `could not start: ${this.spawnError.message}` : `exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`}` +
            ` while waiting for ${what}; stderr: ${this.stderr.join('').trim().slice(-600)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${this.name} gave no ${what} within ${timeoutMs / 1000} s; stderr: ${this.stderr.join('').trim().slice(-600)}`);
      }
      await Promise.race([new Promise((wake) => this.waiters.push(wake)), sleep(Math.min(left, 250))]);
    }
    return this.lines.shift();
  }

  async waitReady(timeoutMs = 10_000) {
    for (;;) {
      const line = await this.nextLine(timeoutMs, '"ready"');
      if (line.trim() === 'ready') return;
    }
  }

  send(line) {
    if (!this.alive) throw new Error(`${this.name} is not running`);
    this.child.stdin.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after 3 s. */
  async stop() {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = sleep(3_000).then(() => 'timeout');
    if ((await Promise.race([this.exit, timer])) === 'timeout') this.child.kill('SIGKILL');
  }
}
