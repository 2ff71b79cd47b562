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

{{/* Worker max replicas: capped by database leaf capacity. */}}
{{- define "ledgerflow.worker.maxReplicas" -}}
{{- $cap := mul (int .Values.singlestore.leaves) (int .Values.worker.workersPerLeaf) -}}
{{- $max := int .Values.worker.autoscaling.maxReplicas -}}
{{- if or (eq $max 0) (gt $max $cap) }}{{ $cap }}{{ else }}{{ $max }}{{ end -}}
{{- end -}}

{{- define "ledgerflow.api.maxReplicas" -}}
{{- .Values.api.autoscaling.maxReplicas -}}
{{- end -}}

{{/* minReplicas never above maxReplicas: (dict "root" $ "component" "consumer") */}}
{{- define "ledgerflow.minReplicas" -}}
{{- $max := int (include (printf "ledgerflow.%s.maxReplicas" .component) .root) -}}
{{- $min := int (index .root.Values .component "autoscaling" "minReplicas") -}}
{{- min $min $max -}}
{{- end -}}

{{- define "ledgerflow.terminationGracePeriodSeconds" -}}
{{- add (div (add (int .Values.shutdownGraceMs) 999) 1000) 10 -}}
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
{{- range $name, $_ := .Values.extraConfig -}}
{{- if regexMatch "PASSWORD|API_KEY|SECRET|TOKEN|HEADERS" $name -}}
{{- fail (printf "extraConfig.%s looks sensitive: pass it through an existing Secret, never as a value" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
