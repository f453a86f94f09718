{{/*
Names, labels and shared pod pieces for the gateway chart.
*/}}

{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: release-chart, or the release name alone when it already contains the chart name.
Truncated to 52 characters so that component suffixes (-worker, -migrate) stay within 63.
*/}}
{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ include "gateway.chart" . }}
{{ include "gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ include "gateway.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: s19-gateway
{{- end }}

{{/*
Labels of one component: (dict "root" $ "component" "api").
*/}}
{{- define "gateway.componentLabels" -}}
{{ include "gateway.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gateway.componentSelectorLabels" -}}
{{ include "gateway.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gateway.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "gateway.imageTag" .) }}
{{- end }}
{{- end }}

{{/*
The name of the Secret holding the database URL; rendering stops without it.
*/}}
{{- define "gateway.databaseSecret" -}}
{{- required "database.existingSecret is required: the name of a Secret holding GATEWAY_DATABASE_URL (a postgresql+psycopg:// URL)" .Values.database.existingSecret }}
{{- end }}

{{- define "gateway.publicBaseUrl" -}}
{{- if .Values.config.publicBaseUrl }}
{{- .Values.config.publicBaseUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- printf "https://%s" (first .Values.ingress.hosts).host }}
{{- end }}
{{- end }}

{{/*
Non-secret settings as a map of GATEWAY_* names to strings: the ConfigMap's data, and the
migration Job's env (the Job runs before the ConfigMap exists on a first install).
*/}}
{{- define "gateway.configData" -}}
{{- $c := .Values.config }}
{{- $data := dict
  "GATEWAY_POLICY" $c.policy
  "GATEWAY_LOG_LEVEL" $c.logLevel
  "GATEWAY_LOG_JSON" (toString $c.logJson)
  "GATEWAY_MOSAIC_USERNAME" $c.mosaicUsername
  "GATEWAY_DELIVERY_BATCH_SIZE" (toString (int $c.deliveryBatchSize))
  "GATEWAY_SHUTDOWN_GRACE_SECONDS" (toString (int $c.shutdownGraceSeconds))
  "GATEWAY_WEB_CONCURRENCY" "1"
  "GATEWAY_HOST" "0.0.0.0"
  "GATEWAY_PORT" "8000"
  "GATEWAY_WORKER_HEALTH_PORT" "8001"
}}
{{- with (include "gateway.publicBaseUrl" .) }}
{{- $_ := set $data "GATEWAY_PUBLIC_BASE_URL" . }}
{{- end }}
{{- with $c.mosaicUrl }}
{{- $_ := set $data "GATEWAY_MOSAIC_URL" . }}
{{- end }}
{{- with $c.nhsFhirUrl }}
{{- $_ := set $data "GATEWAY_NHS_FHIR_URL" . }}
{{- end }}
{{- with $c.ukrlpUrl }}
{{- $_ := set $data "GATEWAY_UKRLP_URL" . }}
{{- end }}
{{- with $c.trustedProxies }}
{{- $_ := set $data "GATEWAY_TRUSTED_PROXIES" (join "," .) }}
{{- end }}
{{- range $k, $v := $c.extra }}
{{- $_ := set $data $k $v }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
The root filesystem is read-only: home and temporary files are under the /tmp emptyDir.
*/}}
{{- define "gateway.baseEnv" -}}
- name: HOME
  value: /tmp
- name: TMPDIR
  value: /tmp
{{- end }}

{{- define "gateway.databaseEnv" -}}
- name: GATEWAY_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway.databaseSecret" . }}
      key: {{ .Values.database.existingSecretKey }}
{{- end }}

{{/*
Pod-level settings every pod shares.
*/}}
{{- define "gateway.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{- define "gateway.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmp.sizeLimit }}
    {{- with .Values.tmp.medium }}
    medium: {{ . }}
    {{- end }}
{{- end }}

{{- define "gateway.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
Topology spread constraints with the component's selector filled in where none is given:
(dict "root" $ "component" "api" "constraints" list).
*/}}
{{- define "gateway.topologySpread" -}}
{{- $selector := include "gateway.componentSelectorLabels" . | fromYaml }}
{{- $out := list }}
{{- range .constraints }}
{{- $out = append $out (mergeOverwrite (dict "labelSelector" (dict "matchLabels" $selector)) (deepCopy .)) }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
Pod annotations: the ConfigMap checksum (config changes roll the pods), optional scrape
annotations, and the user's own: (dict "root" $ "metricsPort" 8000).
*/}}
{{- define "gateway.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .metricsPort | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
One step of the migration Job: (dict "root" $ "step" (dict "name" "args" ["client"])).
The Job runs before the ConfigMap exists on a first install, so the few settings it reads are
given inline.
*/}}
{{- define "gateway.migrationStep" -}}
{{- $root := .root -}}
- name: {{ .step.name }}
  image: {{ include "gateway.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    {{- toYaml .step.args | nindent 4 }}
  env:
    {{- include "gateway.baseEnv" $root | nindent 4 }}
    {{- $config := include "gateway.configData" $root | fromYaml }}
    {{- range $name := concat (list "GATEWAY_POLICY" "GATEWAY_LOG_LEVEL" "GATEWAY_LOG_JSON") (keys $root.Values.config.extra | sortAlpha) }}
    - name: {{ $name }}
      value: {{ get $config $name | quote }}
    {{- end }}
    {{- include "gateway.databaseEnv" $root | nindent 4 }}
    {{- with .step.client }}
    - name: CLIENT_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ .secretName }}
          key: {{ .secretKey }}
    {{- end }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml $root.Values.migration.resources | nindent 4 }}
  volumeMounts:
    {{- include "gateway.tmpMount" $root | nindent 4 }}
{{- end }}
