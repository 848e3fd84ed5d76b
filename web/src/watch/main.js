import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from '../shared/i18n.js'
import '../shared/style.css'

// Time to first frame: from the navigation start to the first decoded frame on screen (App sets it).
window.__ttff = null
createApp(App).use(i18n).mount('#app')
