{{/* Restricted pod security (Pod Security Standards "restricted"), shared by every pod. */}}
{{- define "ledgerflow.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.runAsUser }}
runAsGroup: {{ .Values.runAsUser }}
fsGroup: {{ .Values.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "ledgerflow.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.runAsUser }}
runAsGroup: {{ .Values.runAsUser }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling of one component's pods: the common values, then the component's own (dict "root" $ "component" "consumer"). */}}
{{- define "ledgerflow.podScheduling" -}}
{{- $v := .root.Values -}}
{{- $c := index $v .component -}}
{{- with $v.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- with merge (deepCopy (dig "nodeSelector" (dict) $c)) $v.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (dig "tolerations" list $c) | default $v.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (dig "affinity" (dict) $c) | default $v.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with dig "priorityClassName" "" $c }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with dig "topologySpreadConstraints" list $c }}
topologySpreadConstraints:
{{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not (hasKey $constraint "labelSelector") }}
  {{- $_ := set $constraint "labelSelector" (dict "matchLabels" (include "ledgerflow.selectorLabels" $ | fromYaml)) }}
  {{- end }}
  - {{- toYaml $constraint | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Operator-supplied containers (initContainers, sidecars), restricted unless they say otherwise:
(dict "root" $ "containers" (list ...)) */}}
{{- define "ledgerflow.extraContainers" -}}
{{- $sc := include "ledgerflow.containerSecurityContext" .root | fromYaml -}}
{{- range .containers }}
{{- $container := deepCopy . }}
{{- if not (hasKey $container "securityContext") }}
{{- $_ := set $container "securityContext" $sc }}
{{- end }}
- {{- toYaml $container | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A probe: the fixed check, the operator's timing (dict "check" (dict ...) "timing" (dict ...)). */}}
{{- define "ledgerflow.probe" -}}
httpGet: {{- toYaml .check | nindent 2 }}
{{- toYaml (omit .timing "httpGet" "exec" "tcpSocket" "grpc") | nindent 0 }}
{{- end -}}

{{/* The pod template of a long-running process.
(dict "root" $ "component" "consumer" "args" (list "consume") "needs" (list "kafka" "temporal" "db")
      "probePath" (dict "live" "/healthz" "ready" "/readyz")) */}}
{{- define "ledgerflow.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $port := include "ledgerflow.port" .component -}}
{{- $tls := and (has "temporal" .needs) $v.temporal.tls.existingSecret -}}
{{- $apiKeys := has "apiKeys" .needs -}}
{{- $c := index $v .component -}}
{{- $probes := dig "probes" (dict) $c -}}
{{- $defaultProbes := dict "startup" (dict "periodSeconds" 2 "timeoutSeconds" 3 "failureThreshold" 60) "liveness" (dict "periodSeconds" 10 "timeoutSeconds" 3 "failureThreshold" 3) "readiness" (dict "periodSeconds" 5 "timeoutSeconds" 3 "failureThreshold" 2) -}}
metadata:
  labels:
    {{- include "ledgerflow.labels" . | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "ledgerflow.configData" $root | sha256sum }}
    {{- /* Not the api: an annotation-driven scrape cannot send the credential its /metrics needs. */}}
    {{- if and $v.metrics.podAnnotations (not $apiKeys) }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "ledgerflow.serviceAccountName" $root }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ include "ledgerflow.terminationGracePeriodSeconds" . }}
  securityContext:
    {{- include "ledgerflow.podSecurityContext" $root | nindent 4 }}
  {{- with include "ledgerflow.podScheduling" . | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with dig "initContainers" list $c }}
  initContainers:
    {{- include "ledgerflow.extraContainers" (dict "root" $root "containers" .) | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "ledgerflow.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args: {{ toJson .args }}
      ports:
        - name: http
          containerPort: {{ $port }}
          protocol: TCP
        {{- if and (eq .component "worker") (not $v.otel.metrics.enabled) }}
        {{- /* The Temporal SDK's own metrics (LF_WORKER_SDK_METRICS_PORT); over OTLP instead when otel.metrics.enabled. */}}
        - name: sdk-metrics
          containerPort: {{ include "ledgerflow.port" "workerSdk" }}
          protocol: TCP
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ include "ledgerflow.fullname" $root }}
        {{- with dig "extraEnvFrom" list $c }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $secretEnv := list (include "ledgerflow.otelEnv" (dict "root" $root "component" .component)) (include "ledgerflow.secretEnv" (dict "root" $root "component" .component "needs" .needs)) | join "\n" | trim }}
      {{- $extraEnv := dig "extraEnv" list $c }}
      {{- if or $secretEnv $extraEnv }}
      env:
        {{- with $secretEnv }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      {{- $live := dict "path" .probePath.live "port" "http" }}
      {{- $ready := dict "path" .probePath.ready "port" "http" }}
      startupProbe:
        {{- include "ledgerflow.probe" (dict "check" $live "timing" (dig "startup" $defaultProbes.startup $probes)) | nindent 8 }}
      livenessProbe:
        {{- include "ledgerflow.probe" (dict "check" $live "timing" (dig "liveness" $defaultProbes.liveness $probes)) | nindent 8 }}
      readinessProbe:
        {{- include "ledgerflow.probe" (dict "check" $ready "timing" (dig "readiness" $defaultProbes.readiness $probes)) | nindent 8 }}
      {{- if and (eq .component "api") (gt (int $v.api.preStopSleepSeconds) 0) }}
      {{- /* Keep serving while endpoints and load balancers let go of this pod; then SIGTERM drains it. */}}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ $v.api.preStopSleepSeconds }}
      {{- end }}
      resources:
        {{- toYaml (index $v .component "resources") | nindent 8 }}
      securityContext:
        {{- include "ledgerflow.containerSecurityContext" $root | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $tls }}
        - name: temporal-tls
          mountPath: /etc/ledgerflow/temporal-tls
          readOnly: true
        {{- end }}
        {{- if $apiKeys }}
        - name: api-keys
          mountPath: /etc/ledgerflow/api-keys
          readOnly: true
        {{- end }}
        {{- include "ledgerflow.caMounts" (dict "root" $root "needs" .needs) | nindent 8 }}
        {{- with dig "extraVolumeMounts" list $c }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with dig "sidecars" list $c }}
    {{- include "ledgerflow.extraContainers" (dict "root" $root "containers" .) | nindent 4 }}
    {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
    {{- if $tls }}
    - name: temporal-tls
      secret:
        secretName: {{ $v.temporal.tls.existingSecret | quote }}
        defaultMode: 288 # 0440: owner and group (fsGroup) read
    {{- end }}
    {{- if $apiKeys }}
    - name: api-keys
      secret:
        secretName: {{ $v.api.auth.existingSecret | quote }}
        items: [{ key: {{ $v.api.auth.key | quote }}, path: {{ $v.api.auth.key | quote }} }]
        defaultMode: 288 # 0440: owner and group (fsGroup) read
    {{- end }}
    {{- include "ledgerflow.caVolumes" (dict "root" $root "needs" .needs) | nindent 4 }}
    {{- with dig "extraVolumes" list $c }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
