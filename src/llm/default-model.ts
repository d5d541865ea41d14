/** The Claude model that writes apps unless VIBE_MODEL says otherwise. */
export const DEFAULT_MODEL = 'claude-sonnet-4-6';
