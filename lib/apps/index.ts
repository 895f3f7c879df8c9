/** The app runtime: app manifests, the bundled apps, grant subjects, the frame and its host. */
export * from './constants.ts';
export * from './errors.ts';
export { feedAllowed, parseAppManifest, type AppInfo, type AppManifest, type AppSort } from './manifest.ts';
export { appGrantOrigin, appIdFromHostUrl, appOrigin, type AppSender } from './origin.ts';
export { APP_METHOD_ACCESS, checkAppRequest } from './policy.ts';
export { bundledApps, getBundledApp, isBundledApp } from './registry.ts';
export { createAppHost, type AppHost, type AppHostOptions, type HostPort } from './host.ts';
export { installFrameProvider, isSandboxedFrame, REMOVED_GLOBALS } from './frame.ts';
