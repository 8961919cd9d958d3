{{/*
The pod spec shared by the Deployment, the CronJob and the install/upgrade Job.
Args: root (the chart context), job (true for the CronJob/Job: no probes, restartPolicy Never).
*/}}
{{- define "ocean-azure-devops.podSpec" -}}
{{- $r := .root }}
{{- $cert := $r.Values.selfSignedCertificate }}
{{- if or $r.Values.podServiceAccount.create $r.Values.podServiceAccount.name }}
serviceAccountName: {{ include "ocean-azure-devops.serviceAccountName" $r }}
{{- end }}
{{- if .job }}
restartPolicy: Never
{{- end }}
# The binary calls no Kubernetes API.
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ $r.Values.terminationGracePeriodSeconds }}
{{- with $r.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $r.Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ include "ocean-azure-devops.name" (dict "root" $r "suffix" "container") }}
    image: {{ include "ocean-azure-devops.image" $r }}
    imagePullPolicy: {{ $r.Values.image.pullPolicy }}
    {{- with $r.Values.containerSecurityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $r.Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    ports:
      - name: http
        containerPort: {{ $r.Values.service.port }}
        protocol: TCP
    envFrom:
      - configMapRef:
          name: {{ include "ocean-azure-devops.name" (dict "root" $r "suffix" "config") }}
      {{- with include "ocean-azure-devops.secretRefs" $r }}{{ . | trim | nindent 6 }}{{ end }}
    {{- if or $cert.enabled $r.Values.extraEnv }}
    env:
      {{- /* Port, Azure DevOps and Entra ID calls trust the mounted CA named by
      REQUESTS_CA_BUNDLE (as port-ocean's chart sets it) on top of the roots of SSL_CERT_FILE
      and SSL_CERT_DIR. OpenSSL (Kafka) reads SSL_CERT_FILE, the system bundle, and looks in
      SSL_CERT_DIR by hashed name only, so it does not find cert.crt there: Kafka trusts the
      system roots, which Port's public brokers need. */}}
      {{- if $cert.enabled }}
      - name: SSL_CERT_FILE
        value: /etc/ssl/certs/ca-certificates.crt
      - name: SSL_CERT_DIR
        value: /usr/local/share/ca-certificates
      - name: REQUESTS_CA_BUNDLE
        value: /usr/local/share/ca-certificates/cert.crt
      {{- end }}
      {{- with $r.Values.extraEnv }}
      {{- tpl (toYaml .) $r | nindent 6 }}
      {{- end }}
    {{- end }}
    {{- if not .job }}
    {{- with $r.Values.livenessProbe }}{{ if .enabled }}
    livenessProbe:
      httpGet:
        path: /health/live
        port: {{ $r.Values.service.port }}
      initialDelaySeconds: {{ .initialDelaySeconds }}
      periodSeconds: {{ .periodSeconds }}
      timeoutSeconds: {{ .timeoutSeconds }}
      successThreshold: 1
      failureThreshold: {{ .failureThreshold }}
    {{- end }}{{ end }}
    {{- with $r.Values.readinessProbe }}{{ if .enabled }}
    readinessProbe:
      httpGet:
        path: /health/ready
        port: {{ $r.Values.service.port }}
      initialDelaySeconds: {{ .initialDelaySeconds }}
      periodSeconds: {{ .periodSeconds }}
      timeoutSeconds: {{ .timeoutSeconds }}
      successThreshold: {{ .successThreshold }}
      failureThreshold: {{ .failureThreshold }}
    {{- end }}{{ end }}
    {{- end }}
    {{- if or $cert.enabled $r.Values.extraVolumeMounts }}
    volumeMounts:
      {{- if $cert.enabled }}
      - name: certificates
        mountPath: /usr/local/share/ca-certificates/cert.crt
        subPath: cert.crt
        readOnly: true
      {{- end }}
      {{- with $r.Values.extraVolumeMounts }}
      {{- tpl (toYaml .) $r | nindent 6 }}
      {{- end }}
    {{- end }}
{{- if or $cert.enabled $r.Values.extraVolumes }}
volumes:
  {{- if $cert.enabled }}
  - name: certificates
    secret:
      {{- if $cert.secret.useExistingSecret }}
      secretName: {{ required "selfSignedCertificate.secret.name is required with useExistingSecret" $cert.secret.name }}
      items:
        - key: {{ $cert.secret.key }}
          path: cert.crt
      {{- else }}
      secretName: {{ include "ocean-azure-devops.name" (dict "root" $r "suffix" "cert") }}
      items:
        - key: crt
          path: cert.crt
      {{- end }}
  {{- end }}
  {{- with $r.Values.extraVolumes }}
  {{- tpl (toYaml .) $r | nindent 2 }}
  {{- end }}
{{- end }}
{{- with $r.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $r.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $r.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
