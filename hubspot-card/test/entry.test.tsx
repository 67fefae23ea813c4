import { hubspot, LoadingSpinner, StatusTag } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import type { ReactElement } from 'react';
import { customerStatus, fakeHubSpotFetch, linked } from './fixtures';
import { MARKETPLACE_VARIABLES, TEST_BACKEND_URL } from './render';

afterEach(() => jest.restoreAllMocks());

it('the entry point registers the card with hubspot.extend; the card reads the extension context through the hooks', async () => {
  const extend = jest.spyOn(hubspot, 'extend').mockImplementation(() => undefined);
  await import('../src/app/cards/StripePaymentCard');
  expect(extend).toHaveBeenCalledTimes(1);

  const { calls } = fakeHubSpotFetch(() => ({ status: 200, body: linked(customerStatus()) }));
  const renderer = createRenderer('crm.record.sidebar');
  renderer.mocks.context.portal.id = 4242;
  renderer.mocks.context.crm.objectId = 777;
  renderer.mocks.context.variables = MARKETPLACE_VARIABLES;
  const renderCallback = extend.mock.calls[0]![0] as (api: unknown) => ReactElement;
  renderer.render(
    renderCallback({
      context: renderer.mocks.context,
      actions: renderer.mocks.actions,
      runServerlessFunction: renderer.mocks.runServerlessFunction,
    }),
  );

  expect(renderer.find(LoadingSpinner)).toBeDefined();
  await renderer.waitFor(() => expect(renderer.find(StatusTag).text).toBe('Active'));
  expect(calls[0]).toMatchObject({ url: `${TEST_BACKEND_URL}/api/card/v1/status`, body: { portalId: 4242, contactId: '777' } });
  expect(renderer.mocks.useExtensionContext.callCount).toBeGreaterThan(0);
});
