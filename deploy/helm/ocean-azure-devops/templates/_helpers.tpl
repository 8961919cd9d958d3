{{/*
Names follow port-ocean (ocean-framework.md §8.1): prefix `ocean-{type}-{identifier}`, so a release
switched from port-ocean to this chart keeps its object names (and references to them).
*/}}
{{- define "ocean-azure-devops.prefix" -}}
{{- if .Values.metadataNamePrefixOverride }}
{{- .Values.metadataNamePrefixOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "ocean-%s-%s" .Values.integration.type .Values.integration.identifier | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "ocean-azure-devops.name" -}}
{{- printf "%s-%s" (include "ocean-azure-devops.prefix" .root) .suffix | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ocean-azure-devops.deploymentName" -}}
{{- include "ocean-azure-devops.name" (dict "root" . "suffix" "deployment") }}
{{- end }}

{{/* CronJob names may have at most 52 characters (the controller appends a suffix). */}}
{{- define "ocean-azure-devops.cronJobName" -}}
{{- printf "%s-cron-job" (include "ocean-azure-devops.prefix" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "ocean-azure-devops.secretName" -}}
{{- if and .Values.secret.name (kindIs "string" .Values.secret.name) }}
{{- .Values.secret.name }}
{{- else }}
{{- include "ocean-azure-devops.name" (dict "root" . "suffix" "secret") }}
{{- end }}
{{- end }}

{{- define "ocean-azure-devops.serviceAccountName" -}}
{{- if .Values.podServiceAccount.name }}
{{- tpl .Values.podServiceAccount.name . | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "ocean-azure-devops.name" (dict "root" . "suffix" "sa") }}
{{- end }}
{{- end }}

{{- define "ocean-azure-devops.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- if .Values.image.registry }}{{ printf "%s/%s" (trimSuffix "/" .Values.image.registry) $ref }}{{ else }}{{ $ref }}{{ end }}
{{- end }}

{{/*
Selector labels equal port-ocean's (`app.kubernetes.io/name` is its chart name, `port-ocean`):
a Deployment's selector is immutable, so any other value would make `helm upgrade` of an
existing port-ocean release onto this chart fail.
*/}}
{{- define "ocean-azure-devops.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.nameOverride | default "port-ocean" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ocean-azure-devops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{ include "ocean-azure-devops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- range $key, $value := .Values.extraLabels }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* A boolean with a default that an explicit false does not override (unlike Sprig `default`). */}}
{{- define "ocean-azure-devops.bool" -}}
{{- if kindIs "invalid" .value }}{{ .default }}{{ else }}{{ .value }}{{ end }}
{{- end }}

{{/* `camelCase: value` map -> `PREFIX<UPPER_SNAKE>: "value"`, maps and lists as JSON (§8.2). */}}
{{- define "ocean-azure-devops.envMap" -}}
{{- $prefix := .prefix }}
{{- range $key, $value := .values }}
{{- if or (kindIs "map" $value) (kindIs "slice" $value) }}
{{ $prefix }}{{ $key | snakecase | upper }}: {{ $value | toJson | quote }}
{{- else }}
{{ $prefix }}{{ $key | snakecase | upper }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* envFrom secrets: the created/named one, or every name when secret.name is a list. */}}
{{- define "ocean-azure-devops.secretRefs" -}}
{{- $names := list }}
{{- if or .Values.secret.create (and .Values.secret.name (kindIs "string" .Values.secret.name)) }}
{{- $names = append $names (include "ocean-azure-devops.secretName" .) }}
{{- end }}
{{- if kindIs "slice" .Values.secret.name }}
{{- $names = concat $names .Values.secret.name }}
{{- end }}
{{- range $names | uniq }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}
