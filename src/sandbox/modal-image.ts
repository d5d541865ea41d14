import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NotFoundError, type App, type Image, type ModalClient } from 'modal';
import type { Logger } from '../core/ports/index.ts';
import { tarFiles } from './tar.ts';

export const BASE_IMAGE = 'node:20-bookworm-slim';
const CHUNK = 16_000;
/** 2024-01-01T00:00:00Z: every file in the image's template archive carries this mtime. */
const TEMPLATE_MTIME = 1_704_067_200;
const STAGED = '/app/.template.b64';

/** The template's own files (no node_modules, no caches): what the image bakes in. */
export function templateSourceFiles(templateDir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(templateDir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(templateDir);
  return files;
}

/**
 * The Dockerfile steps of the sandbox image: the template unpacked at /app, its exact
 * dependencies installed (npm ci), and Vite's dependency cache pre-built, so a sandbox serves
 * its first page without installing or bundling anything. Every sandbox runs at /app, so the
 * pre-built cache (keyed by the project root) stays valid in all of them.
 */
export function templateImageCommands(templateDir: string): string[] {
  // Same template, same bytes, same Dockerfile text: Modal's build cache then skips every step
  // (npm ci included) on the next `npm run modal:image`.
  const b64 = gzipSync(tarFiles(templateSourceFiles(templateDir), TEMPLATE_MTIME)).toString('base64');
  const chunks: string[] = [];
  // The chunks go under /app, which every later step sees; nothing is kept in /tmp between steps.
  for (let i = 0; i < b64.length; i += CHUNK) chunks.push(`RUN printf '%s' '${b64.slice(i, i + CHUNK)}' >> ${STAGED}`);
  return [
    'RUN mkdir -p /app',
    ...chunks,
    `RUN base64 -d ${STAGED} | tar -xz -C /app && rm ${STAGED}`,
    'WORKDIR /app',
    'RUN npm ci --no-audit --no-fund',
    'RUN node node_modules/vite/bin/vite.js optimize --configLoader runner',
  ];
}

export function buildTemplateImage(client: ModalClient, app: App, templateDir: string): Promise<Image> {
  return client.images.fromRegistry(BASE_IMAGE).dockerfileCommands(templateImageCommands(templateDir)).build(app);
}

/** The image published as `name`, looked up; built from the template once (and published) if missing. */
export async function publishedTemplateImage(
  client: ModalClient,
  app: () => Promise<App>,
  name: string,
  templateDir: string,
  logger: Pick<Logger, 'warn'>,
): Promise<Image> {
  try {
    return await client.images.fromName(name);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    logger.warn(
      { image: name },
      'the sandbox image is missing: building it once (npm run modal:image does this ahead of time)',
    );
    const image = await buildTemplateImage(client, await app(), templateDir);
    await image.publish(name);
    return image;
  }
}
