/*
 * Site setting of the Abiquo console drop-in: the address of the console cluster (HAProxy in front of the vnc-relay
 * nodes), as users' browsers reach it. Scheme, host and port only, e.g. 'https://console.example.com' or
 * 'http://10.60.13.28:41338' (HAProxy's legacy websockify port also serves the console page).
 * See docs/CONSOLE.md, "Abiquo drop-in".
 */
window.VNC_CONSOLE_CONFIG = {
  clusterUrl: '',
};
