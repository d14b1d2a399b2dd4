using Floyo.Recovery.Configuration;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Storage.Blob;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Wal;

/// <summary>
/// The WAL archive of <c>wal push</c> and <c>wal fetch</c>, built straight from the settings without a host or a
/// container. PostgreSQL starts these once per 16 MB segment, and building the whole engine (AddFloyoRecovery)
/// to use three options classes and one store cost more CPU than archiving the segment. The settings are the
/// same, bound the same way and checked by the same validators, all before anything is read or written; a
/// failure is thrown as ValidateOnStart throws it (one <see cref="OptionsValidationException"/>, or an
/// <see cref="AggregateException"/> of them), so the CLI reports it identically.
/// </summary>
public sealed class WalArchiveFromSettings
{
    private WalArchiveFromSettings(WalArchive archive, WalPrefetcher prefetcher, WalBatchPusher batch)
    {
        Archive = archive;
        Prefetcher = prefetcher;
        BatchPusher = batch;
    }

    public WalArchive Archive { get; }

    public WalPrefetcher Prefetcher { get; }

    public WalBatchPusher BatchPusher { get; }

    public static WalArchiveFromSettings Create(IConfiguration configuration, ILoggerFactory loggers)
    {
        var failures = new List<OptionsValidationException>();
        var backup = Bind<BackupOptions>(configuration);
        Validate(backup, new BackupOptionsValidator(), failures);
        var blob = Bind<BlobStoreOptions>(configuration);
        // Under the host the Blob rules read the validated BackupOptions, so an invalid one is all they report.
        if (failures.Count == 0)
        {
            Validate(blob, new BlobStoreOptionsValidator(Options.Create(backup)), failures);
        }
        var wal = Bind<WalOptions>(configuration);
        Validate(wal, new WalOptionsValidator(), failures);
        if (failures.Count == 1)
        {
            throw failures[0];
        }
        if (failures.Count > 1)
        {
            throw new AggregateException(failures);
        }
        var clock = TimeProvider.System;
        var store = BackupStores.CreatePrimary(backup, blob, new BlobClientFactory([]), clock, loggers.CreateLogger<BlobStore>());
        var archive = new WalArchive(store, Options.Create(backup), clock, loggers.CreateLogger<WalArchive>(), Options.Create(wal));
        return new(archive, new WalPrefetcher(archive, loggers.CreateLogger<WalPrefetcher>()), new WalBatchPusher(archive, wal, loggers.CreateLogger<WalBatchPusher>()));
    }

    /// <summary>As BindConfiguration("") binds: a value that does not convert throws the binder's InvalidOperationException.</summary>
    private static T Bind<T>(IConfiguration configuration)
        where T : class, new()
    {
        var options = new T();
        configuration.Bind(options);
        return options;
    }

    private static void Validate<T>(T options, IValidateOptions<T> validator, List<OptionsValidationException> failures)
        where T : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            failures.Add(new OptionsValidationException(Options.DefaultName, typeof(T), result.Failures));
        }
    }
}
