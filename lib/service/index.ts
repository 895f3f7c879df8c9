export { createService, type Service, type ServiceComponents, type ServiceInit, type EngineClient } from './service.ts';
export { PromptQueue, type PromptWindows, type PromptRequest } from './prompts.ts';
export { GrantStore } from './grants.ts';
export * from './errors.ts';
