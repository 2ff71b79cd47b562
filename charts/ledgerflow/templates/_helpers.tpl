{{/* Names, labels and selectors: defined once, used by every template. */}}

{{- define "ledgerflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ledgerflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: (dict "root" $ "component" "consumer") */}}
{{- define "ledgerflow.componentName" -}}
{{- printf "%s-%s" (include "ledgerflow.fullname" .root | trunc 50 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "ledgerflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ledgerflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ledgerflow.labels" -}}
{{ include "ledgerflow.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ledgerflow
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "ledgerflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ledgerflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ledgerflow.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* HTTP port of each process (the app's defaults; the ConfigMap sets the same numbers). */}}
{{- define "ledgerflow.port" -}}
{{- $ports := dict "api" 8080 "consumer" 9471 "worker" 9472 "producer" 9473 "workerSdk" 9474 -}}
{{- get $ports . -}}
{{- end -}}

{{/* Consumer max replicas: a consumer beyond the partition count is idle. */}}
{{- define "ledgerflow.consumer.maxReplicas" -}}
{{- $partitions := int .Values.kafka.partitions -}}
{{- $max := int .Values.consumer.autoscaling.maxReplicas -}}
{{- if or (eq $max 0) (gt $max $partitions) }}{{ $partitions }}{{ else }}{{ $max }}{{ end -}}
{{- end -}}

{{/* Lag per consumer replica the autoscaler aims at. A consumer draining at its limit holds
2 × batchesInFlight × batchMaxEvents events in flight (Little's law: drain rate × batch round trip,
measured in docs/decisions/028-autoscaling-signals.md); 80 % of that is lag it carries while keeping up. */}}
{{- define "ledgerflow.consumer.lagThreshold" -}}
{{- $c := .Values.consumer -}}
{{- if gt (int $c.autoscaling.lagThreshold) 0 }}{{ $c.autoscaling.lagThreshold }}{{ else }}{{ div (mul 8 2 (int $c.batchesInFlight) (int $c.batchMaxEvents)) 10 }}{{ end -}}
{{- end -}}

{{/* Worker max replicas: capped by database leaf capacity. */}}
{{- define "ledgerflow.worker.maxReplicas" -}}
{{- $cap := mul (int .Values.singlestore.leaves) (int .Values.worker.workersPerLeaf) -}}
{{- $max := int .Values.worker.autoscaling.maxReplicas -}}
{{- if or (eq $max 0) (gt $max $cap) }}{{ $cap }}{{ else }}{{ $max }}{{ end -}}
{{- end -}}

{{- define "ledgerflow.api.maxReplicas" -}}
{{- .Values.api.autoscaling.maxReplicas -}}
{{- end -}}


{{/* The SIGTERM drain (shutdownGraceMs) + 10 s, and the api's preStop sleep before it:
(dict "root" $ "component" "api") */}}
{{- define "ledgerflow.terminationGracePeriodSeconds" -}}
{{- $drain := add (div (add (int .root.Values.shutdownGraceMs) 999) 1000) 10 -}}
{{- if eq .component "api" }}{{ add $drain (int .root.Values.api.preStopSleepSeconds) }}{{ else }}{{ $drain }}{{ end -}}
{{- end -}}

{{- define "ledgerflow.migrationSecret" -}}
{{- default .Values.db.existingSecret .Values.db.migrationExistingSecret -}}
{{- end -}}

{{/* Kafka SASL mechanism as KEDA spells it. */}}
{{- define "ledgerflow.kedaSasl" -}}
{{- get (dict "plain" "plaintext" "scram-sha-256" "scram_sha256" "scram-sha-512" "scram_sha512") .Values.kafka.sasl.mechanism -}}
{{- end -}}

{{/* Fails the render on values that the schema cannot express. */}}
{{- define "ledgerflow.validate" -}}
{{- if .Values.kafka.sasl.mechanism -}}
{{- range $component := list "consumer" "api" "producer" -}}
{{- if not (include "ledgerflow.kafkaSaslSecret" (dict "root" $ "component" $component)) -}}
{{- fail (printf "kafka.sasl.existingSecret is required when kafka.sasl.mechanism is set (or kafka.sasl.componentSecrets.%s)" $component) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.temporal.tls.existingSecret (not .Values.temporal.tls.enabled) -}}
{{- fail "temporal.tls.existingSecret needs temporal.tls.enabled: true" -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.serviceMonitor.apiToken.existingSecret) -}}
{{- fail "serviceMonitor.enabled needs serviceMonitor.apiToken.existingSecret (the api's /metrics takes a credential of scope metrics)" -}}
{{- end -}}
{{- include "ledgerflow.validateScaling" . -}}
{{- include "ledgerflow.validateExposure" . -}}
{{- range $component := list "consumer" "worker" "api" -}}
{{- range (index $.Values $component "extraEnv") -}}
{{- if and (hasKey . "value") (regexMatch "PASSWORD|API_KEY|SECRET|TOKEN" (toString .name)) -}}
{{- fail (printf "%s.extraEnv %s looks sensitive: give it valueFrom.secretKeyRef, never a value" $component .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $_ := .Values.extraConfig -}}
{{- if regexMatch "PASSWORD|API_KEY|SECRET|TOKEN|HEADERS" $name -}}
{{- fail (printf "extraConfig.%s looks sensitive: pass it through an existing Secret, never as a value" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}


{{/* Replica counts, caps and pools that cannot work together (docs/decisions/028-autoscaling-signals.md). */}}
{{- define "ledgerflow.validateScaling" -}}
{{- $v := .Values -}}
{{- $partitions := int $v.kafka.partitions -}}
{{- $leafCap := mul (int $v.singlestore.leaves) (int $v.worker.workersPerLeaf) -}}
{{- if and (not $v.consumer.autoscaling.enabled) (gt (int $v.consumer.replicas) $partitions) -}}
{{- fail (printf "consumer.replicas (%d) is above kafka.partitions (%d): a consumer beyond the partition count gets no partition and idles" (int $v.consumer.replicas) $partitions) -}}
{{- end -}}
{{- if and (not $v.worker.autoscaling.enabled) (gt (int $v.worker.replicas) $leafCap) -}}
{{- fail (printf "worker.replicas (%d) is above singlestore.leaves × worker.workersPerLeaf (%d): the database leaves are sized for fewer workers" (int $v.worker.replicas) $leafCap) -}}
{{- end -}}
{{- if lt (int $v.db.poolSize) (int $v.worker.maxConcurrentActivities) -}}
{{- fail (printf "db.poolSize (%d) is below worker.maxConcurrentActivities (%d): activities would wait for a connection inside their timeout; raise db.poolSize or lower the activities" (int $v.db.poolSize) (int $v.worker.maxConcurrentActivities)) -}}
{{- end -}}
{{- range $component := list "consumer" "worker" "api" -}}
{{- $a := index $v $component "autoscaling" -}}
{{- if $a.enabled -}}
{{- $max := int (include (printf "ledgerflow.%s.maxReplicas" $component) $) -}}
{{- if gt (int $a.minReplicas) $max -}}
{{- $why := get (dict "consumer" (printf " (capped by kafka.partitions = %d)" $partitions) "worker" (printf " (capped by singlestore.leaves × worker.workersPerLeaf = %d)" $leafCap) "api" "") $component -}}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is above its most replicas, %d%s" $component (int $a.minReplicas) $max $why) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.keda.enabled $v.externalMetrics.enabled -}}
{{- fail "keda.enabled and externalMetrics.enabled both scale the consumer and worker: choose one (KEDA serves external metrics itself)" -}}
{{- end -}}
{{- range $type := $v.worker.autoscaling.queueTypes -}}
{{- if not (has $type (list "workflow" "activity")) -}}
{{- fail (printf "worker.autoscaling.queueTypes: %q is not a task-queue type the worker polls (workflow, activity)" $type) -}}
{{- end -}}
{{- end -}}
{{- if not $v.worker.autoscaling.queueTypes -}}
{{- fail "worker.autoscaling.queueTypes needs at least one of workflow, activity" -}}
{{- end -}}
{{- if and $v.keda.enabled $v.worker.autoscaling.enabled -}}
{{- if eq $v.keda.worker.trigger "temporal" -}}
{{- if and $v.temporal.tls.enabled (not $v.temporal.tls.existingSecret) (not $v.temporal.apiKey.existingSecret) -}}
{{- fail "KEDA's Temporal scaler dials TLS only with a client certificate (temporal.tls.existingSecret) or an API key (temporal.apiKey.existingSecret); with server-only TLS it would dial in plaintext and the worker would never scale: give it one, or set keda.worker.trigger=prometheus with keda.prometheus.serverAddress" -}}
{{- end -}}
{{- else if not $v.keda.prometheus.serverAddress -}}
{{- fail "keda.worker.trigger=prometheus needs keda.prometheus.serverAddress (the Prometheus that scrapes the workers)" -}}
{{- end -}}
{{- range $component := list "consumer" "worker" -}}
{{- $fallback := int (index $v.keda.fallback (printf "%sReplicas" $component)) -}}
{{- $max := int (include (printf "ledgerflow.%s.maxReplicas" $component) $) -}}
{{- if gt $fallback $max -}}
{{- fail (printf "keda.fallback.%sReplicas (%d) is above the %s's most replicas (%d)" $component $fallback $component $max) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.worker.autoscaling.enabled (or $v.keda.enabled $v.externalMetrics.enabled) (eq (int $v.worker.backlogPollMs) 0) (or $v.externalMetrics.enabled (eq $v.keda.worker.trigger "prometheus")) -}}
{{- fail "worker.backlogPollMs is 0, so the workers export no ledgerflow_task_queue_backlog for the worker's autoscaler to read" -}}
{{- end -}}
{{- end -}}

{{/* Ingress and HTTPRoute values that would render an object the cluster refuses or that routes nowhere. */}}
{{- define "ledgerflow.validateExposure" -}}
{{- $v := .Values -}}
{{- if and $v.api.httpRoute.enabled (not $v.api.httpRoute.parentRefs) -}}
{{- fail "api.httpRoute.enabled needs api.httpRoute.parentRefs (the Gateway the route attaches to)" -}}
{{- end -}}
{{- if and $v.api.ingress.enabled $v.api.ingress.tlsSecret (not $v.api.ingress.host) -}}
{{- fail "api.ingress.tlsSecret needs api.ingress.host (the certificate is for a host)" -}}
{{- end -}}
{{- end -}}
