import { loadOidcConfig } from './oidc-config';

const base = {
  RUNBOOKS_OIDC_ISSUER: 'https://sso.example.test/realms/it',
  RUNBOOKS_OIDC_AUDIENCE: 'runbooks-api, runbooks-cli',
  RUNBOOKS_OIDC_JWKS_URL: 'https://sso.example.test/realms/it/protocol/openid-connect/certs',
};

describe('loadOidcConfig', () => {
  it('is off without an issuer', () => {
    expect(loadOidcConfig({})).toBeUndefined();
  });

  it('reads audiences, claims and the group mapping', () => {
    expect(loadOidcConfig({ ...base, RUNBOOKS_OIDC_GROUP_ROLES: '{"it-oncall":["approver"]}' })).toMatchObject({
      audience: ['runbooks-api', 'runbooks-cli'],
      idClaim: 'preferred_username',
      groupsClaim: 'groups',
      groupRoles: { 'it-oncall': ['approver'] },
      clockToleranceSeconds: 30,
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadOidcConfig({ ...base, RUNBOOKS_OIDC_GROUP_ROLES: '{"it-oncall":["root"]}' })).toThrow(/RUNBOOKS_OIDC_GROUP_ROLES: /);
    expect(() => loadOidcConfig({ ...base, RUNBOOKS_OIDC_GROUP_ROLES: 'it-oncall=approver' })).toThrow(
      /RUNBOOKS_OIDC_GROUP_ROLES must be JSON/,
    );
    expect(() => loadOidcConfig({ ...base, RUNBOOKS_OIDC_JWKS_URL: '', RUNBOOKS_OIDC_ROLES_CLAIM: 'roles' })).toThrow(
      /RUNBOOKS_OIDC_JWKS_URL: /,
    );
    expect(() => loadOidcConfig(base)).toThrow(/RUNBOOKS_OIDC_ROLES_CLAIM: set RUNBOOKS_OIDC_ROLES_CLAIM or RUNBOOKS_OIDC_GROUP_ROLES/);
  });
});
