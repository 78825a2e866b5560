/** The part of Kubernetes object metadata the discoverer reads. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A core/v1 Secret as read from the API: values in `data` are base64. */
export interface Secret {
  apiVersion?: 'v1';
  kind?: 'Secret';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  type?: string;
}

/** A core/v1 ConfigMap. */
export interface ConfigMap {
  apiVersion?: 'v1';
  kind?: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
