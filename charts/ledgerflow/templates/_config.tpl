{{/* Non-sensitive settings (LF_* env vars, see src/config.ts). Rendered into the ConfigMap, and
inline into the migration hook, which runs before the ConfigMap exists on a first install. */}}
{{- define "ledgerflow.configData" -}}
LF_LOG_LEVEL: {{ .Values.logLevel | quote }}
LF_SHUTDOWN_GRACE_MS: {{ .Values.shutdownGraceMs | quote }}
LF_API_HOST: "0.0.0.0"
LF_API_PORT: {{ include "ledgerflow.port" "api" | quote }}
LF_CONSUMER_HTTP_PORT: {{ include "ledgerflow.port" "consumer" | quote }}
LF_WORKER_HTTP_PORT: {{ include "ledgerflow.port" "worker" | quote }}
LF_PRODUCER_HTTP_PORT: {{ include "ledgerflow.port" "producer" | quote }}
LF_WORKER_SDK_METRICS_PORT: {{ include "ledgerflow.port" "workerSdk" | quote }}
LF_TRACING_ENABLED: {{ .Values.tracing.enabled | quote }}
OTEL_METRICS_EXPORTER: {{ ternary "otlp" "none" .Values.otel.metrics.enabled | quote }}
{{- if or .Values.tracing.enabled .Values.otel.metrics.enabled }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ required "otel.endpoint is required when tracing.enabled or otel.metrics.enabled" .Values.otel.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.otel.protocol | quote }}
OTEL_METRIC_EXPORT_INTERVAL: {{ .Values.otel.metrics.exportIntervalMs | quote }}
{{- end }}
LF_KAFKA_BROKERS: {{ .Values.kafka.brokers | quote }}
LF_KAFKA_CLIENT_ID: {{ .Values.kafka.clientId | quote }}
LF_KAFKA_TOPIC: {{ .Values.kafka.topic | quote }}
LF_KAFKA_DLQ_TOPIC: {{ .Values.kafka.dlqTopic | quote }}
LF_KAFKA_PARTITIONS: {{ .Values.kafka.partitions | quote }}
LF_KAFKA_REPLICATION_FACTOR: {{ .Values.kafka.replicationFactor | quote }}
LF_KAFKA_GROUP_ID: {{ .Values.kafka.groupId | quote }}
LF_KAFKA_COMPRESSION: {{ .Values.kafka.compression | quote }}
LF_KAFKA_SSL: {{ .Values.kafka.tls | quote }}
{{- with .Values.kafka.ca.existingSecret }}
LF_KAFKA_SSL_CA_PATH: {{ printf "/etc/ledgerflow/kafka-ca/%s" $.Values.kafka.ca.key | quote }}
{{- end }}
LF_KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
LF_TEMPORAL_ADDRESS: {{ .Values.temporal.address | quote }}
LF_TEMPORAL_NAMESPACE: {{ .Values.temporal.namespace | quote }}
LF_TEMPORAL_TASK_QUEUE: {{ .Values.temporal.taskQueue | quote }}
LF_TEMPORAL_TLS: {{ .Values.temporal.tls.enabled | quote }}
{{- with .Values.temporal.tls.serverName }}
LF_TEMPORAL_TLS_SERVER_NAME: {{ . | quote }}
{{- end }}
{{- with .Values.temporal.tls.ca.existingSecret }}
LF_TEMPORAL_TLS_CA_PATH: {{ printf "/etc/ledgerflow/temporal-ca/%s" $.Values.temporal.tls.ca.key | quote }}
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
LF_TEMPORAL_TLS_CERT_PATH: {{ printf "/etc/ledgerflow/temporal-tls/%s" .Values.temporal.tls.certKey | quote }}
LF_TEMPORAL_TLS_KEY_PATH: {{ printf "/etc/ledgerflow/temporal-tls/%s" .Values.temporal.tls.keyKey | quote }}
{{- end }}
LF_DB_DIALECT: {{ .Values.db.dialect | quote }}
LF_DB_HOST: {{ .Values.db.host | quote }}
LF_DB_PORT: {{ .Values.db.port | quote }}
LF_DB_NAME: {{ .Values.db.name | quote }}
LF_DB_USER: {{ .Values.db.user | quote }}
LF_DB_POOL_SIZE: {{ .Values.db.poolSize | quote }}
LF_DB_TLS: {{ .Values.db.tls.enabled | quote }}
{{- with .Values.db.tls.ca.existingSecret }}
LF_DB_TLS_CA_PATH: {{ printf "/etc/ledgerflow/db-ca/%s" $.Values.db.tls.ca.key | quote }}
{{- end }}
{{- /* Passwords come from Secrets only: never fall back to the local stack's password files. */}}
LF_DB_PASSWORD_FILE: ""
LF_DB_MIGRATION_PASSWORD_FILE: ""
LF_CONSUMER_BATCH_MAX_EVENTS: {{ .Values.consumer.batchMaxEvents | quote }}
LF_CONSUMER_BATCH_MAX_BYTES: {{ .Values.consumer.batchMaxBytes | quote }}
LF_CONSUMER_LINGER_MS: {{ .Values.consumer.lingerMs | quote }}
LF_CONSUMER_PARTITIONS_CONCURRENTLY: {{ .Values.consumer.partitionsConcurrently | quote }}
LF_CONSUMER_BATCHES_IN_FLIGHT: {{ .Values.consumer.batchesInFlight | quote }}
LF_WORKER_MAX_CONCURRENT_ACTIVITIES: {{ .Values.worker.maxConcurrentActivities | quote }}
LF_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: {{ .Values.worker.maxConcurrentWorkflowTasks | quote }}
LF_WORKER_BACKLOG_POLL_MS: {{ .Values.worker.backlogPollMs | quote }}
LF_API_PAGE_SIZE_MAX: {{ .Values.api.pageSizeMax | quote }}
LF_API_INGEST_BATCH_MAX: {{ .Values.api.ingestBatchMax | quote }}
LF_API_IDEMPOTENCY_RETENTION_S: {{ .Values.api.idempotencyRetentionS | quote }}
{{- /* The key set is a mounted Secret file (see the api's pod template), re-read without a restart. */}}
LF_API_KEYS_FILE: {{ printf "/etc/ledgerflow/api-keys/%s" .Values.api.auth.key | quote }}
LF_API_KEYS_RELOAD_MS: {{ .Values.api.auth.reloadMs | quote }}
LF_API_RATE_LIMIT_PER_MINUTE: {{ .Values.api.auth.rateLimitPerMinute | quote }}
LF_API_SESSION_TTL_S: {{ .Values.api.session.ttlS | quote }}
LF_API_SESSION_COOKIE_SECURE: {{ .Values.api.session.secureCookie | quote }}
LF_FRAUD_ENABLED: {{ .Values.fraud.enabled | quote }}
LF_FRAUD_REVIEW_ENABLED: {{ .Values.fraud.reviewEnabled | quote }}
LF_FRAUD_REVIEW_THRESHOLD: {{ .Values.fraud.reviewThreshold | quote }}
LF_FRAUD_REVIEW_OPENS_PER_BATCH_MAX: {{ .Values.fraud.reviewOpensPerBatchMax | quote }}
LF_FRAUD_REVIEW_QUEUE_MAX: {{ .Values.fraud.reviewQueueMax | quote }}
{{- range $name, $value := .Values.extraConfig }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* The resource of every span and metric a pod exports (OTEL_RESOURCE_ATTRIBUTES): the pod, its
UID and node from the downward API (env vars defined just before, expanded by the kubelet), the
namespace, the release as service.namespace, the role (its service.name, ledgerflow-<role>, is set by
the process) and the extra values. (dict "root" $ "component" "consumer") */}}
{{- define "ledgerflow.otelEnv" -}}
{{- $v := .root.Values -}}
{{- if or $v.tracing.enabled $v.otel.metrics.enabled }}
- name: OTEL_RESOURCE_ATTRIBUTES_POD_NAME
  valueFrom:
    fieldRef: { fieldPath: metadata.name }
- name: OTEL_RESOURCE_ATTRIBUTES_POD_UID
  valueFrom:
    fieldRef: { fieldPath: metadata.uid }
- name: OTEL_RESOURCE_ATTRIBUTES_NODE_NAME
  valueFrom:
    fieldRef: { fieldPath: spec.nodeName }
{{- $attrs := list "k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)" "k8s.pod.uid=$(OTEL_RESOURCE_ATTRIBUTES_POD_UID)" "k8s.node.name=$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME)" "service.instance.id=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)" }}
{{- $attrs = concat $attrs (list (printf "k8s.namespace.name=%s" .root.Release.Namespace) (printf "k8s.deployment.name=%s" (include "ledgerflow.componentName" .)) (printf "service.namespace=%s" .root.Release.Name) (printf "service.version=%s" .root.Chart.AppVersion) (printf "ledgerflow.role=%s" .component)) }}
{{- range $key, $value := $v.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $key (urlquery (toString $value))) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- with $v.otel.headers.existingSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef: { name: {{ . | quote }}, key: {{ $v.otel.headers.key | quote }} }
{{- end }}
{{- end }}
{{- end -}}

{{/* The SASL Secret of a component: its own (least privilege) or the shared one. (dict "root" $ "component" "api") */}}
{{- define "ledgerflow.kafkaSaslSecret" -}}
{{- $sasl := .root.Values.kafka.sasl -}}
{{- get $sasl.componentSecrets .component | default $sasl.existingSecret -}}
{{- end -}}

{{/* Secret-backed env vars, by what a process needs: (dict "root" $ "component" "api" "needs" (list "kafka" "db")).
Only secretKeyRef here: a literal secret can never be rendered. */}}
{{- define "ledgerflow.secretEnv" -}}
{{- $v := .root.Values -}}
{{- if and (has "kafka" .needs) $v.kafka.sasl.mechanism }}
{{- $secret := include "ledgerflow.kafkaSaslSecret" . }}
- name: LF_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef: { name: {{ $secret | quote }}, key: {{ $v.kafka.sasl.usernameKey | quote }} }
- name: LF_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ $secret | quote }}, key: {{ $v.kafka.sasl.passwordKey | quote }} }
{{- end }}
{{- if and (has "temporal" .needs) $v.temporal.apiKey.existingSecret }}
- name: LF_TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef: { name: {{ $v.temporal.apiKey.existingSecret | quote }}, key: {{ $v.temporal.apiKey.key | quote }} }
{{- end }}
{{- if has "db" .needs }}
- name: LF_DB_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ $v.db.existingSecret | quote }}, key: {{ $v.db.passwordKey | quote }} }
{{- end }}
{{- if has "dbMigration" .needs }}
- name: LF_DB_MIGRATION_USER
  value: {{ $v.db.migrationUser | quote }}
- name: LF_DB_MIGRATION_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ include "ledgerflow.migrationSecret" .root | quote }}, key: {{ $v.db.migrationPasswordKey | quote }} }
{{- end }}
{{- end -}}

{{/* CA certificates from Secrets, as files where LF_*_CA_PATH (configData) points, by what a process
needs: (dict "root" $ "needs" (list "kafka" "db")). Mounts and volumes share one list of what applies. */}}
{{- define "ledgerflow.caFiles" -}}
{{- $v := .root.Values -}}
{{- $all := list (dict "name" "kafka-ca" "need" "kafka" "secret" $v.kafka.ca.existingSecret) (dict "name" "temporal-ca" "need" "temporal" "secret" $v.temporal.tls.ca.existingSecret) (dict "name" "db-ca" "need" "db" "secret" $v.db.tls.ca.existingSecret) (dict "name" "db-ca" "need" "dbMigration" "secret" $v.db.tls.ca.existingSecret) -}}
{{- $out := list -}}
{{- range $all }}
{{- if and .secret (has .need $.needs) }}{{ $out = append $out . }}{{ end }}
{{- end }}
{{- toJson (dict "files" $out) -}}
{{- end -}}

{{- define "ledgerflow.caMounts" -}}
{{- range (include "ledgerflow.caFiles" . | fromJson).files }}
- name: {{ .name }}
  mountPath: {{ printf "/etc/ledgerflow/%s" .name }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "ledgerflow.caVolumes" -}}
{{- range (include "ledgerflow.caFiles" . | fromJson).files }}
- name: {{ .name }}
  secret:
    secretName: {{ .secret | quote }}
    defaultMode: 292 # 0444: a CA certificate is public
{{- end }}
{{- end -}}
