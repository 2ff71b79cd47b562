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
{{- if .Values.tracing.enabled }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ required "tracing.otlpEndpoint is required when tracing.enabled" .Values.tracing.otlpEndpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.tracing.protocol | quote }}
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
LF_KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
LF_TEMPORAL_ADDRESS: {{ .Values.temporal.address | quote }}
LF_TEMPORAL_NAMESPACE: {{ .Values.temporal.namespace | quote }}
LF_TEMPORAL_TASK_QUEUE: {{ .Values.temporal.taskQueue | quote }}
LF_TEMPORAL_TLS: {{ .Values.temporal.tls.enabled | quote }}
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
LF_API_PAGE_SIZE_MAX: {{ .Values.api.pageSizeMax | quote }}
LF_API_INGEST_BATCH_MAX: {{ .Values.api.ingestBatchMax | quote }}
LF_FRAUD_ENABLED: {{ .Values.fraud.enabled | quote }}
LF_FRAUD_REVIEW_ENABLED: {{ .Values.fraud.reviewEnabled | quote }}
LF_FRAUD_REVIEW_THRESHOLD: {{ .Values.fraud.reviewThreshold | quote }}
{{- range $name, $value := .Values.extraConfig }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Secret-backed env vars, by what a process needs: (dict "root" $ "needs" (list "kafka" "db")).
Only secretKeyRef here: a literal secret can never be rendered. */}}
{{- define "ledgerflow.secretEnv" -}}
{{- $v := .root.Values -}}
{{- if and (has "kafka" .needs) $v.kafka.sasl.mechanism }}
- name: LF_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef: { name: {{ $v.kafka.sasl.existingSecret | quote }}, key: {{ $v.kafka.sasl.usernameKey | quote }} }
- name: LF_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ $v.kafka.sasl.existingSecret | quote }}, key: {{ $v.kafka.sasl.passwordKey | quote }} }
{{- end }}
{{- if and (has "temporal" .needs) $v.temporal.apiKey.existingSecret }}
- name: LF_TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef: { name: {{ $v.temporal.apiKey.existingSecret | quote }}, key: {{ $v.temporal.apiKey.key | quote }} }
{{- end }}
{{- if and (has "reviews" .needs) $v.fraud.reviewToken.existingSecret }}
- name: LF_FRAUD_REVIEW_TOKEN
  valueFrom:
    secretKeyRef: { name: {{ $v.fraud.reviewToken.existingSecret | quote }}, key: {{ $v.fraud.reviewToken.key | quote }} }
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
