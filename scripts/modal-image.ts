// npm run modal:image: builds the sandbox image (template + node_modules + Vite's dependency
// cache) on Modal and publishes it under VIBE_MODAL_IMAGE, so sandboxes start without building.
import { ModalClient } from 'modal';
import { TEMPLATE_DIR } from '../src/template.ts';
import { configOrReport } from '../src/config.ts';
import { buildTemplateImage } from '../src/sandbox/modal-image.ts';

async function main(): Promise<number> {
  const config = configOrReport();
  if (!config) return 2;
  if (!config.MODAL_TOKEN_ID || !config.MODAL_TOKEN_SECRET) {
    process.stderr.write('Set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (`modal token new`, see docs/modal.md).\n');
    return 2;
  }
  const client = new ModalClient({ tokenId: config.MODAL_TOKEN_ID, tokenSecret: config.MODAL_TOKEN_SECRET });
  try {
    const app = await client.apps.fromName(config.VIBE_MODAL_APP, { createIfMissing: true });
    process.stdout.write(`Building the sandbox image in Modal app "${config.VIBE_MODAL_APP}"…\n`);
    const image = await buildTemplateImage(client, app, TEMPLATE_DIR);
    await image.publish(config.VIBE_MODAL_IMAGE);
    process.stdout.write(`Published ${image.imageId} as "${config.VIBE_MODAL_IMAGE}".\n`);
    return 0;
  } finally {
    client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Could not build the image: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
