import { hasAnyRole, hasRole } from './principal';

describe('roles', () => {
  test('admin holds every role', () => {
    expect(hasRole({ roles: ['admin'] }, 'approver')).toBe(true);
    expect(hasAnyRole({ roles: ['admin'] }, ['scheduler'])).toBe(true);
  });

  test('a technician is not an approver', () => {
    expect(hasRole({ roles: ['technician'] }, 'approver')).toBe(false);
    expect(hasAnyRole({ roles: ['technician'] }, ['approver', 'scheduler'])).toBe(false);
  });
});
