// lowrank's modules where the site or the factorization is not a projection's A/B pair: a
// convolution's LoRA (lowrank-conv.ts) and the Tucker factorization at projections and
// convolutions (tucker-modules.ts). One module per site, the class chosen by the site.
import type { ModulePlanOf } from '../../plan/index.js';
import { buildPerSite, type SiteModule } from './compose.js';
import { initLowRankPair } from './init.js';
import { LowRank } from './lowrank.js';
import { ConvLowRank } from './lowrank-conv.js';
import { TuckerConv, TuckerLinear, coreRanks, tuckerDims } from './tucker-modules.js';
import type { BuildContext, BuiltModule } from './types.js';

export function buildLowRankSites(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  return buildPerSite<ModulePlanOf<'lowrank'>, SiteModule>(c, (site, uDim) => {
    if (o.factorization === 'tucker') {
      const dims = tuckerDims(site);
      const ranks = coreRanks(site, o.rank, o.core);
      return site.conv ? new TuckerConv(site.conv, dims, ranks) : new TuckerLinear(dims, ranks);
    }
    return site.conv ? new ConvLowRank(site.conv, uDim, site.outDim, o.rank) : new LowRank(uDim, site.outDim, o.rank);
  }, (m, _site, uDim) => {
    if (m instanceof TuckerConv || m instanceof TuckerLinear) m.init(c.init, o.init === 'random');
    else if (m instanceof ConvLowRank) initLowRankPair(c.init, o.init, m.A, m.B, m.fanIn, o.rank);
    else if (m instanceof LowRank) initLowRankPair(c.init, o.init, m.A, m.B, uDim, o.rank);
  });
}
