import { describe, expect, it } from 'vitest';
import { checkInstruction, MAX_PROMPT_CHARS, parseCommand } from '../../src/core/chat/commands.ts';

describe('parseCommand', () => {
  it('turns free text into a create', () => {
    expect(parseCommand('  a pomodoro timer with a dark theme ')).toEqual({
      kind: 'create',
      prompt: 'a pomodoro timer with a dark theme',
    });
    expect(parseCommand('calculator')).toEqual({ kind: 'create', prompt: 'calculator' });
  });

  it('gives usage help for an empty prompt', () => {
    const c = parseCommand('   ');
    expect(c.kind).toBe('help');
    expect(c.kind === 'help' && c.reason).toMatch(/what to build/);
  });

  it('refuses a prompt over the limit', () => {
    const c = parseCommand('x'.repeat(MAX_PROMPT_CHARS + 1));
    expect(c.kind).toBe('invalid');
    expect(c.kind === 'invalid' && c.message).toMatch(/limit is 4000/);
    expect(parseCommand('x'.repeat(MAX_PROMPT_CHARS)).kind).toBe('create');
  });

  it('answers unknown subcommands (typos, flags) with help', () => {
    const c = parseCommand('galery');
    expect(c).toMatchObject({ kind: 'help' });
    expect(c.kind === 'help' && c.reason).toMatch(/Did you mean `\/vibe gallery`/);
    expect(parseCommand('--verbose')).toMatchObject({ kind: 'help' });
  });

  it('parses the subcommands', () => {
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('gallery')).toEqual({ kind: 'gallery', cursor: undefined });
    expect(parseCommand('LIST')).toEqual({ kind: 'gallery', cursor: undefined });
    expect(parseCommand('gallery abc')).toEqual({ kind: 'gallery', cursor: 'abc' });
    expect(parseCommand('undo')).toEqual({ kind: 'undo', appId: undefined });
    expect(parseCommand('undo abc123def0')).toEqual({ kind: 'undo', appId: 'abc123def0' });
    expect(parseCommand('versions')).toEqual({ kind: 'versions', appId: undefined });
    expect(parseCommand('restore 2')).toEqual({ kind: 'restore', version: 2, appId: undefined });
    expect(parseCommand('restore v3 abc123def0')).toEqual({ kind: 'restore', version: 3, appId: 'abc123def0' });
    expect(parseCommand('delete')).toEqual({ kind: 'delete', appId: undefined, confirmed: false });
    expect(parseCommand('delete abc123def0 confirm')).toEqual({ kind: 'delete', appId: 'abc123def0', confirmed: true });
  });

  it('rejects a bad version number clearly', () => {
    expect(parseCommand('restore two')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('restore 0')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('restore')).toMatchObject({ kind: 'invalid' });
  });

  it('treats sentences that start with a subcommand word as prompts', () => {
    expect(parseCommand('list of my favourite films with ratings')).toMatchObject({ kind: 'create' });
    expect(parseCommand('help me plan a trip')).toMatchObject({ kind: 'create' });
  });
});

describe('checkInstruction', () => {
  it('accepts ordinary text and refuses empty or huge text', () => {
    expect(checkInstruction('make it blue')).toBeUndefined();
    expect(checkInstruction('  ')).toMatch(/what to change/);
    expect(checkInstruction('y'.repeat(MAX_PROMPT_CHARS + 1))).toMatch(/limit/);
  });
});
