import type { webApi } from '@slack/bolt';
import { UserError } from '../../src/core/errors.ts';
import type { ImageAttachment } from '../../src/core/ports/images.ts';
import { downloadCapped } from '../download.ts';

/** Where Slack serves files (`url_private_download`); tests add the fake's origin. */
const SLACK_FILES_ORIGIN = 'https://files.slack.com';

const NEEDS_FILES_READ =
  'I could not open the picture: this Slack app needs the `files:read` permission. Ask a workspace admin to reinstall it from the updated manifest.';

interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  size?: number;
  url_private_download?: string;
  file_access?: string;
}

export interface SlackFilePlace {
  client: webApi.WebClient;
  botToken: string;
  /** The Web API base when it is not Slack's own (an emulator, the tests): its origin serves files too. */
  apiUrl?: string;
}

/**
 * The files of a Slack message as the core's picture attachments (the core checks which are
 * pictures, by their bytes): declared size first, bytes downloaded with the bot token only when
 * the core asks. A file the event only names (`file_access: check_file_info`) is looked up with
 * files.info. Undefined when the message has no files.
 */
export async function slackAttachments(files: unknown, place: SlackFilePlace): Promise<ImageAttachment[] | undefined> {
  if (!Array.isArray(files) || files.length === 0) return undefined;
  const allowed = [SLACK_FILES_ORIGIN, ...(place.apiUrl ? [new URL(place.apiUrl).origin] : [])];
  return Promise.all(
    (files as SlackFile[]).map(async (given) => {
      let file = given;
      let problem: unknown;
      if (!file.url_private_download && file.id)
        file = await place.client.files.info({ file: file.id }).then(
          (r) => (r.file as SlackFile | undefined) ?? given,
          (err: unknown) => ((problem = err), given),
        );
      const attachment: ImageAttachment = {
        name: file.name ?? file.title ?? file.id ?? 'file',
        ...(typeof file.size === 'number' ? { size: file.size } : {}),
        fetch: async (maxBytes) => {
          if (problem) throw slackCode(problem) === 'missing_scope' ? new UserError(NEEDS_FILES_READ) : problem;
          if (!file.url_private_download) throw new Error(`slack file ${file.id ?? '?'} has no download URL`);
          return downloadCapped(file.url_private_download, {
            allowed,
            maxBytes,
            headers: { authorization: `Bearer ${place.botToken}` },
            htmlMessage: NEEDS_FILES_READ,
          });
        },
      };
      return attachment;
    }),
  );
}

function slackCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } }).data?.error;
}
