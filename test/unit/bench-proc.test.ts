import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseProcStat, parseVmHwmKb, ProcessMeter } from '../../bench/proc.js';

describe('bench /proc readings', () => {
  it('takes utime and stime from fields 14 and 15, counting after the command name', () => {
    const line = '4242 (java) S 1 4242 4242 0 -1 4194560 120 0 0 0 3689 376 0 0 20 0 57 0 1234 5000000 240000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ utime: 3689, stime: 376 });
  });

  it('is not misled by spaces and parentheses in the command name', () => {
    const line = '77 (node (cdc) start) R 1 77 77 0 -1 4194304 10 0 0 0 12 3 0 0 20 0 11 0 99 1000 200 1';
    expect(parseProcStat(line)).toEqual({ utime: 12, stime: 3 });
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStat('nothing here')).toThrow(/stat/);
    expect(() => parseProcStat('1 (x) S 1 2')).toThrow(/utime/);
  });

  it('reads VmHWM in kB, 0 when the status has none', () => {
    expect(parseVmHwmKb('Name:\tjava\nVmPeak:\t 3000000 kB\nVmHWM:\t  994168 kB\nVmRSS:\t  994000 kB\n')).toBe(994168);
    expect(parseVmHwmKb('Name:\tkthreadd\nState:\tS (sleeping)\n')).toBe(0);
  });

  it('measures a live process and keeps its figures after it exits', async () => {
    // A busy loop of ~300 ms, so there is CPU time to see.
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 300; while (Date.now() < end);'], { stdio: 'ignore' });
    const meter = new ProcessMeter(child.pid ?? -1);
    await new Promise((resolve) => child.on('exit', resolve));
    meter.stop();
    expect(meter.cpuSeconds()).toBeGreaterThan(0);
    expect(meter.peakRssMb()).toBeGreaterThan(0);
  });
});
