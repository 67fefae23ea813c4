import {
  ConnectionHubSpotError,
  PermanentHubSpotError,
  asConnectionFailure,
  isPortalWideCategory,
  missingProperties,
  retryCategory,
} from './errors';

/** Reading HubSpot's refusals: a missing property, a refused connection, a portal-wide failure. */

describe('missingProperties', () => {
  it('reads the names from errors[].context and from the list inside the message', () => {
    const list = [
      { isValid: false, message: 'Property "stripe_mrr" does not exist', error: 'PROPERTY_DOESNT_EXIST', name: 'stripe_mrr' },
      { isValid: false, message: '12x was not a valid number.', error: 'INVALID_INTEGER', name: 'stripe_ltv' },
      { isValid: false, message: 'Property "stripe_plan" does not exist', error: 'PROPERTY_DOESNT_EXIST', name: 'stripe_plan' },
    ];
    expect(missingProperties({ message: `Property values were not valid: ${JSON.stringify(list)}` })).toEqual({
      missing: true,
      names: ['stripe_mrr', 'stripe_plan'],
    });
    const err = new PermanentHubSpotError({
      status: 400,
      category: 'VALIDATION_ERROR',
      message: 'Property values were not valid',
      operation: 'contacts.batch.update',
      body: { errors: [{ message: 'Property "stripe_x" does not exist', code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['stripe_x'] } }] },
    });
    expect(missingProperties(err)).toEqual({ missing: true, names: ['stripe_x'] });
  });

  it('reads the plain text form, and says no for other validation errors', () => {
    const idProperty = new PermanentHubSpotError({
      status: 400,
      category: 'VALIDATION_ERROR',
      message: 'Property "stripe_customer_id" does not exist',
      operation: 'contacts.batch.read',
      body: { errors: [{ message: 'Property "stripe_customer_id" does not exist', code: 'PROPERTY_DOESNT_EXIST' }] },
    });
    expect(missingProperties(idProperty)).toEqual({ missing: true, names: ['stripe_customer_id'] });
    const list = [{ isValid: false, message: 'x was not one of the allowed options', error: 'INVALID_OPTION', name: 'stripe_status' }];
    expect(missingProperties({ message: `Property values were not valid: ${JSON.stringify(list)}` })).toEqual({ missing: false, names: [] });
    expect(missingProperties({ message: 'Contact already exists. Existing ID: 12' })).toEqual({ missing: false, names: [] });
  });
});

describe('asConnectionFailure', () => {
  it('takes 401 and 403 as refusals of the connection, nothing else', () => {
    const p = (status: number, category: string) => new PermanentHubSpotError({ status, category, message: 'm', operation: 'op' });
    expect(asConnectionFailure(p(401, 'INVALID_AUTHENTICATION'))).toMatchObject({ status: 401, severity: 'paused' });
    expect(asConnectionFailure(p(403, 'MISSING_SCOPES'))).toMatchObject({ status: 403, category: 'MISSING_SCOPES', severity: 'paused' });
    expect(asConnectionFailure(p(401, 'INSTALL_DISCONNECTED'))).toMatchObject({ severity: 'broken' });
    expect(asConnectionFailure(p(400, 'VALIDATION_ERROR'))).toBeNull();
    expect(asConnectionFailure(new Error('x'))).toBeNull();
    const broken = new ConnectionHubSpotError({ status: 400, category: 'BAD_REFRESH_TOKEN', message: 'm', operation: 'oauth.refresh', severity: 'broken' });
    expect(asConnectionFailure(broken)).toBe(broken);
  });
});

describe('isPortalWideCategory', () => {
  it('knows the categories of whole-call failures from the ones of a record', () => {
    for (const r of ['server', 'network', 'rate_limit', 'locked', 'budget', 'daily_limit'] as const) expect(isPortalWideCategory(retryCategory(r))).toBe(true);
    for (const c of ['NO_RESULT', 'INTERNAL_ERROR', 'VALIDATION_ERROR', null]) expect(isPortalWideCategory(c)).toBe(false);
  });
});
