/** A cluster name: one DNS label (it becomes `<name>.<zone>` and the Sentinel master name). */
export const CLUSTER_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Agent names and zone labels. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
