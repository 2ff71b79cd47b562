/**
 * The container image: built with podman from the repository's Dockerfile (local stand-ins for its
 * base images where no image registry is reachable), and saved as an archive a node's containerd
 * imports. `ledgerflow image …` (./cli.ts) and the tests use these; so can a cluster's setup.
 */
export { buildImage, defaultImageTag, saveImage, type BuildImageOptions, type BuiltImage } from './build';
export { ensureStandInBases, NODE_VERSION, NONROOT_UID, standInBaseImages, type StandInResult } from './bases';
export { CONTAINER_LIMIT_ARGS, imageNames, PODMAN_GLOBAL_ARGS } from './podman';
export { normalizeImageRef, upstreamBaseImages, type BaseImages } from './refs';
