import { parseDpkgLog } from './conflict-commands';

describe("parseDpkgLog: package changes from dpkg's log", () => {
  const log = [
    '+0100',
    '2026-11-29 08:00:00 install rb-greeter:all <none> 1.0-1',
    '2026-11-29 08:00:01 status installed rb-greeter:all 1.0-1',
    '2026-11-30 03:10:00 upgrade rb-libgreet:amd64 1:1.0-1 1:2.0-1',
    '2026-11-30 03:11:00 remove rb-old:all 0.9 <none>',
    '2026-11-30 11:00:00 upgrade rb-late:all 1 2',
  ].join('\n');

  test('reads installs, upgrades (with epochs) and removals in the window, in host time converted to UTC', () => {
    const changes = parseDpkgLog(log, new Date('2026-11-29T12:00:00Z'), new Date('2026-11-30T09:00:00Z'));
    expect(changes).toEqual([
      { at: '2026-11-30T02:10:00.000Z', action: 'upgrade', package: 'rb-libgreet', from: '1:1.0-1', to: '1:2.0-1' },
      { at: '2026-11-30T02:11:00.000Z', action: 'remove', package: 'rb-old', from: '0.9', to: null },
    ]);
  });

  test('an install has no previous version', () => {
    const [install] = parseDpkgLog(log, new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T08:00:00Z'));
    expect(install).toEqual({ at: '2026-11-29T07:00:00.000Z', action: 'install', package: 'rb-greeter', from: null, to: '1.0-1' });
  });
});
