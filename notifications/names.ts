// The notification objects' names, apart from the parser (config.ts) so that the notifier can name
// them without loading YAML and Liquid before a Rollout subscribes to anything.
export const CONFIGMAP_NAME = 'rollway-notification-configmap';
export const SECRET_NAME = 'rollway-notification-secret';
export const ARGO_CONFIGMAP_NAME = 'argo-rollouts-notification-configmap';
