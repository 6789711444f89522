import { describe, expect, it } from 'vitest';
import { ownArguments } from '../../../src/main/shell/appArguments';

describe('ownArguments', () => {
  it("keeps our flags and their values, and drops Chromium's switches", () => {
    expect(
      ownArguments(['--no-sandbox', '--port', '7100', '--enable-logging', '--db=/tmp/m.db', '--openai-diffusing', '--backend', 'http://127.0.0.1:8000']),
    ).toEqual(['--port', '7100', '--db=/tmp/m.db', '--openai-diffusing', '--backend', 'http://127.0.0.1:8000']);
  });

  it('ignores positional arguments (the app path electron-vite passes)', () => {
    expect(ownArguments(['.', 'out/main/index.js'])).toEqual([]);
  });
});
