import { hubletOfHubDomain, hubletOfToken, hubspotAppOrigin, hubspotRecordUrl } from './hubspot-links';

describe('HubSpot record links', () => {
  it('names the data centre a private-app token was issued in', () => {
    expect(hubletOfToken('pat-eu1-fake-token-for-tests')).toBe('eu1');
    expect(hubletOfToken('pat-na1-fake-token-for-tests')).toBe('na1');
    expect(hubletOfToken('PAT-EU1-abc')).toBe('eu1');
    expect(hubletOfToken('pat-test-private-app-token')).toBeNull();
    expect(hubletOfToken('CKDZpunPLhICAQEYs-gDIIGOBii1hQ')).toBeNull();
    expect(hubletOfToken(undefined)).toBeNull();
  });

  it('reads the data centre from a hub domain only when it is one of HubSpot’s hosted domains', () => {
    expect(hubletOfHubDomain('144886321.hs-sites-eu1.com')).toBe('eu1');
    expect(hubletOfHubDomain('hs-sites-eu1.com')).toBe('eu1');
    // The portal's own website domain says nothing of where the portal is hosted.
    expect(hubletOfHubDomain('acme-eu1.com')).toBeNull();
    expect(hubletOfHubDomain('meowmix.com')).toBeNull();
    expect(hubletOfHubDomain('fake-portal-4242.hubspot.com')).toBeNull();
    expect(hubletOfHubDomain(null)).toBeNull();
  });

  it('uses app.hubspot.com for na1 and for an unknown data centre, app-<hublet>.hubspot.com for the others', () => {
    expect(hubspotAppOrigin(null)).toBe('https://app.hubspot.com');
    expect(hubspotAppOrigin('na1')).toBe('https://app.hubspot.com');
    expect(hubspotAppOrigin('eu1')).toBe('https://app-eu1.hubspot.com');
    expect(hubspotAppOrigin('AP1')).toBe('https://app-ap1.hubspot.com');
    // Nothing else ever becomes a host name.
    expect(hubspotAppOrigin('evil.example/x')).toBe('https://app.hubspot.com');
    expect(hubspotAppOrigin('eu1.attacker')).toBe('https://app.hubspot.com');
  });

  it('builds contact, company and deal pages, and no link from an id HubSpot would not give', () => {
    const eu = hubspotAppOrigin('eu1');
    expect(hubspotRecordUrl(eu, 424242, 'deal', '901')).toBe('https://app-eu1.hubspot.com/contacts/424242/record/0-3/901');
    expect(hubspotRecordUrl(eu, 424242, 'company', '77')).toBe('https://app-eu1.hubspot.com/contacts/424242/record/0-2/77');
    expect(hubspotRecordUrl(hubspotAppOrigin(null), 1, 'contact', '5')).toBe('https://app.hubspot.com/contacts/1/record/0-1/5');
    expect(hubspotRecordUrl(eu, 424242, 'deal', '../../settings')).toBeNull();
    expect(hubspotRecordUrl(eu, 424242, 'deal', '')).toBeNull();
    expect(hubspotRecordUrl(eu, 0, 'deal', '901')).toBeNull();
    expect(hubspotRecordUrl(eu, Number.NaN, 'deal', '901')).toBeNull();
  });
});
