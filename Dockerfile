# Floyo DR's Functions app with the PostgreSQL client tools it runs (pg_dump, pg_restore, pg_basebackup, psql).
#
#   docker build -t floyo-dr .                          # client tools of PostgreSQL 17
#   docker build --build-arg PG_MAJOR=16 -t floyo-dr .  # match an older server (the tools must be >= the server's major)
#
# azd deploy builds it in the Azure Container Registry (azure.yaml: docker.remoteBuild), so no local Docker is needed.

# --- publish: the same script a test runs (tests/Floyo.Functions.Tests/Infra/ContainerImageTests.cs)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS publish
WORKDIR /src
COPY . .
RUN scripts/publish-functions.sh /app/publish

# --- runtime: the official Azure Functions .NET isolated image for .NET 10 (Debian)
FROM mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0 AS runtime

# Azure Database for PostgreSQL runs majors 16 and 17; pg_dump must be at least the server's major.
ARG PG_MAJOR=17

# The PostgreSQL project's Debian repository (apt.postgresql.org), for the image's own Debian release. Its
# packages install each major side by side under /usr/lib/postgresql/<major>/bin.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl gnupg; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    for tool in pg_dump pg_restore pg_basebackup psql; do "/usr/lib/postgresql/${PG_MAJOR}/bin/${tool}" --version; done; \
    apt-get purge -y --auto-remove curl gnupg; \
    rm -rf /var/lib/apt/lists/*

# A non-root user: it cannot bind port 80, so the host listens on 8080 (the deployment sets WEBSITES_PORT=8080).
RUN set -eux; \
    useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin floyo; \
    install -d -o floyo -g floyo /home/LogFiles /home/data

ENV PG_BIN_DIR=/usr/lib/postgresql/${PG_MAJOR}/bin \
    AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    ASPNETCORE_URLS=http://+:8080

# The app's files stay root-owned: the user runs them but cannot change them.
COPY --from=publish /app/publish /home/site/wwwroot

USER floyo
EXPOSE 8080
