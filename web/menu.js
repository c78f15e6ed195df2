/*
 * The demo menu's own behaviour: "Order this item" POSTs { item_id, item_name, price_cents,
 * quantity } as JSON to the order API named by this script tag's data-order-endpoint (default
 * /order; clicklake serve answers it with a stub) and shows the answer. Tracking is not done
 * here: tracker.js sees the same click and sends order_click.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var endpoint = (script && script.dataset.orderEndpoint) || '/order';
  var toast;
  var hideTimer;

  function show(message, isError) {
    toast = toast || document.querySelector('.toast');
    toast.textContent = message;
    toast.classList.toggle('error', !!isError);
    toast.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { toast.hidden = true; }, 2500);
  }

  function order(button) {
    var dish = button.closest('[data-item-id]');
    var name = dish.getAttribute('data-item-name');
    button.disabled = true;
    fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        item_id: dish.getAttribute('data-item-id'),
        item_name: name,
        price_cents: Number(dish.getAttribute('data-price-cents')),
        quantity: 1,
      }),
    }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      show(name + ' is on its way to the kitchen');
    }).catch(function () {
      show('Could not place the order for ' + name + ': please ask your server', true);
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener('click', function (ev) {
    var button = ev.target.closest && ev.target.closest('[data-order-item]');
    if (button) order(button);
  });
})();
