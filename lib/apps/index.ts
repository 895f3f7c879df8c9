/** The app runtime: app manifests, the bundled apps, grant subjects, the frame and its host. */
export * from './constants.ts';
export * from './errors.ts';
export { feedAllowed, parseAppManifest, type AppInfo, type AppManifest, type AppSort } from './manifest.ts';
export { appAuthorFromHostUrl, appGrantOrigin, appIdFromHostUrl, appOrigin, parseAppOrigin, type AppSender } from './origin.ts';
export { APP_METHOD_ACCESS, checkAppRequest } from './policy.ts';
export { bundledApps, getBundledApp, isBundledApp } from './registry.ts';
export { createAppHost, type AppHost, type AppHostOptions, type HostPort } from './host.ts';
export { installFrameProvider, isSandboxedFrame, REMOVED_GLOBALS } from './frame.ts';
export { isValidAppPath, openAppPackage, packApp, type AppPackage } from './package.ts';
export * from './published.ts';
export { installShell, isShellDocumentMessage, SHELL_DOCUMENT_MESSAGE, type ShellDocumentMessage } from './shell.ts';
export { checkAppHtml } from './html.ts';
