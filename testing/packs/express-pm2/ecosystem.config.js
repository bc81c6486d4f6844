// pm2 process file: `pm2-runtime ecosystem.config.js` in the container.
module.exports = {
  apps: [
    {
      name: 'orders-api',
      script: './src/server.js',
      instances: 1,
      autorestart: true,
      watch: false,
      max_memory_restart: '400M',
      env: {
        PORT: 3000,
        LOG_FORMAT: 'combined',
      },
    },
  ],
};
