import { redactOutput } from './redact-output';

describe('redactOutput: credentials in host output never reach a run history or report', () => {
  it.each([
    ['Dec 01 app[42]: connecting with password=Hunter2-canary to db', 'Dec 01 app[42]: connecting with password=[redacted] to db'],
    ['DB_PASSWORD: "s3cr3t-canary"', 'DB_PASSWORD: "[redacted]"'],
    ['export API_KEY=abc123canary; run', 'export API_KEY=[redacted]; run'],
    ['client_secret=zzz-canary&grant=x', 'client_secret=[redacted]&grant=x'],
    ['GET / Authorization: Bearer eyJhbGciOi.canary', 'GET / Authorization: [redacted]'],
    ['fetch https://svc:pa55-canary@repo.example/x', 'fetch https://svc:[redacted]@repo.example/x'],
  ])('%s', (line, expected) => {
    expect(redactOutput(line)).toBe(expected);
  });

  it('removes a private key block whole, ended or cut off', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA-canary\n-----END OPENSSH PRIVATE KEY-----';
    expect(redactOutput(`before\n${key}\nafter`)).toBe('before\n[private key redacted]\nafter');
    expect(redactOutput('-----BEGIN RSA PRIVATE KEY-----\nMIIE-canary')).toBe('[private key redacted]');
  });

  it('leaves ordinary output alone', () => {
    const ss = 'LISTEN 0 128 127.0.0.1:8080 0.0.0.0:* users:(("erp",pid=42,fd=3))\nkernel: ata1.00: failed command: READ FPDMA QUEUED';
    expect(redactOutput(ss)).toBe(ss);
  });
});
