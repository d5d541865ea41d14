/**
 * An image as the fake knows it: its Dockerfile commands as recorded. They are run by
 * image-builder.ts, unless the fake was started with an `imageDir` (then they never are).
 */
export interface FakeImage {
  imageId: string;
  /** This layer's commands as the SDK sent them, e.g. `FROM node:20-slim`, `RUN …` (or `FROM base`). */
  dockerfileCommands: string[];
  /** The layer this one builds on (`FROM base`), if any. */
  baseImageId?: string;
  builderVersion: string;
  appId: string;
  /** Every command from the first layer to this one, `FROM base` lines dropped. */
  allCommands: string[];
  /** The registry tag of the first layer's `FROM`, e.g. `node:20-slim`. */
  baseTag: string;
  /** The last `WORKDIR` in `allCommands`, if any. */
  workdir?: string;
}

export function describeImage(
  imageId: string,
  req: { dockerfileCommands: string[]; baseImageId?: string; builderVersion: string; appId: string },
  base: FakeImage | undefined,
): FakeImage {
  const own = req.dockerfileCommands.filter((c) => c.trim() !== 'FROM base');
  const allCommands = [...(base?.allCommands ?? []), ...own];
  const from = allCommands.find((c) => /^FROM\s/i.test(c.trim()));
  const workdirs = allCommands
    .map((c) => /^WORKDIR\s+(\S+)/i.exec(c.trim())?.[1])
    .filter((w): w is string => w !== undefined);
  return {
    imageId,
    ...req,
    allCommands,
    baseTag: from ? (from.trim().split(/\s+/)[1] ?? '') : '',
    workdir: workdirs.at(-1),
  };
}
