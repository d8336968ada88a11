/*
 * Abiquo's console page, replaced: Abiquo opens tightvnc.html?vncIP=ADDRESS&vncPort=PORT&password=PASSWORD (the VM's
 * vdrpIP, vdrpPort and VNC password). Like the noVNC page it replaces, it names the console md5("ADDRESS:PORT"), the
 * token Abiquo's token sync gives the cluster; then it hands over to the cluster's own console page, which connects
 * back to the cluster it was served from (so no cross-site WebSocket, and every relay feature comes along). The
 * password moves into the URL fragment, which browsers never send to a server.
 */
(function () {
  'use strict';

  // Console page parameters passed through as given (noVNC's names).
  var PASSED_THROUGH = ['title', 'resize', 'view_only', 'autoconnect', 'reconnect', 'reconnect_delay', 'shared', 'logging'];

  function readParameters(search, hash) {
    var values = {};
    [search, hash].forEach(function (part) {
      part.replace(/^[?#]/, '').split('&').forEach(function (pair) {
        if (!pair) {
          return;
        }
        var at = pair.indexOf('=');
        var name = decodeURIComponent((at < 0 ? pair : pair.slice(0, at)).replace(/\+/g, ' '));
        var value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, ' '));
        values[name.toLowerCase()] = value;
      });
    });
    return values;
  }

  function clusterBase(configured) {
    var text = (configured || '').trim();
    if (!text) {
      return null;
    }
    try {
      var url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
    } catch (error) {
      return null;
    }
  }

  /**
   * The cluster console URL for Abiquo's parameters, or an error sentence.
   * @returns {{url: string} | {error: string}}
   */
  function consoleUrl(parameters, configuredCluster, md5) {
    var base = clusterBase(configuredCluster);
    if (!base) {
      return { error: 'The console cluster address is not set: edit clusterUrl in tightvnc-config.js next to this page (see docs/CONSOLE.md).' };
    }
    var address = (parameters.vncip || '').trim();
    var port = (parameters.vncport || '').trim();
    if (!address || !/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return { error: 'This page needs the VM\'s VNC address and port (vncIP and vncPort): open the console from the Abiquo UI.' };
    }
    var query = ['token=' + encodeURIComponent(md5(address + ':' + port))];
    PASSED_THROUGH.forEach(function (name) {
      if (Object.prototype.hasOwnProperty.call(parameters, name)) {
        query.push(name + '=' + encodeURIComponent(parameters[name]));
      }
    });
    var fragment = parameters.password ? '#password=' + encodeURIComponent(parameters.password) : '';
    return { url: base + '/console?' + query.join('&') + fragment };
  }

  window.abiquoConsole = { readParameters: readParameters, consoleUrl: consoleUrl };

  var config = window.VNC_CONSOLE_CONFIG || {};
  var result = consoleUrl(readParameters(location.search, location.hash), config.clusterUrl, window.abiquoConsoleMd5);
  var status = document.getElementById('status');
  if (result.error) {
    document.body.setAttribute('data-state', 'failed');
    status.textContent = result.error;
    return;
  }
  status.textContent = 'Opening the console…';
  // replace(): the entry with the password in its query does not stay in the history.
  location.replace(result.url);
}());
