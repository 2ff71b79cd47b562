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

{{- define "ledgerflow.podScheduling" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
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
  terminationGracePeriodSeconds: {{ include "ledgerflow.terminationGracePeriodSeconds" $root }}
  securityContext:
    {{- include "ledgerflow.podSecurityContext" $root | nindent 4 }}
  {{- with include "ledgerflow.podScheduling" $root | trim }}
  {{- . | nindent 2 }}
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
      {{- with list (include "ledgerflow.otelEnv" (dict "root" $root "component" .component)) (include "ledgerflow.secretEnv" (dict "root" $root "component" .component "needs" .needs)) | join "\n" | trim }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      startupProbe:
        httpGet: { path: {{ .probePath.live }}, port: http }
        periodSeconds: 2
        failureThreshold: 60
      livenessProbe:
        httpGet: { path: {{ .probePath.live }}, port: http }
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet: { path: {{ .probePath.ready }}, port: http }
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
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
{{- end -}}
