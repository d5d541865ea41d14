// The button protocol, in one place: what each button's `value` carries. Cards build values
// here, and the bot and the adapters (the terminal chat's text twins) read them back here.

/** "k3j9x0q2ab:3": a restore button's app and version. */
export function restoreValue(appId: string, version: number): string {
  return `${appId}:${version}`;
}

export function parseRestoreValue(value: string): { appId: string; version: number } {
  const [appId = '', n = ''] = value.split(':');
  return { appId, version: Number(n) };
}

/** "<cursor>~5": where App Home's two lists are (your apps: a store cursor; your channels' apps: an offset). */
export function homeValue(mine: string | undefined, channels: number): string {
  return `${mine ?? ''}~${channels}`;
}

export function parseHomeValue(value: string): { mine?: string; channels: number } {
  const [mine = '', n = ''] = value.split('~');
  const channels = Number(n);
  return { ...(mine ? { mine } : {}), channels: Number.isInteger(channels) && channels > 0 ? channels : 0 };
}

/** The `/vibe …` text that does what a button does (where there are no buttons: the terminal chat). */
export function commandFor(action: string, value: string): string {
  switch (action) {
    case 'gallery':
      return `/vibe gallery ${value}`;
    case 'mine':
      return `/vibe mine ${value}`;
    case 'restore': {
      const { appId, version } = parseRestoreValue(value);
      return `/vibe restore ${version} ${appId}`;
    }
    case 'delete-confirm':
      return `/vibe delete ${value} confirm`;
    case 'data-reset':
      return `/vibe data reset ${value}`;
    case 'data-reset-confirm':
      return `/vibe data reset ${value} confirm`;
    default:
      return `/vibe ${action} ${value}`;
  }
}
